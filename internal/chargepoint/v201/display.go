package v201

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/evse-dev/evse/internal/display"
	"github.com/evse-dev/evse/internal/ocpp201"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// displayComponent is the name of the station's one display component.
const displayComponent = "Display"

// displayItems is how many messages one NotifyDisplayMessages carries.
const displayItems = 10

// setDisplayMessage answers SetDisplayMessage (O01, O02, O06): the
// message is checked (display.Check) and kept, replacing the one of its
// id. A transactionId not of a transaction this station runs is
// UnknownTransaction; a display component other than the station's
// Display (of one of its EVSEs, or none) is Rejected (UnknownComponent).
func (cp *ChargePoint) setDisplayMessage(ctx context.Context, r *ocpp201.SetDisplayMessageRequest) (*ocpp201.SetDisplayMessageResponse, error) {
	info := r.Message
	answer := func(status ocpp201.DisplayMessageStatus, reason string) *ocpp201.SetDisplayMessageResponse {
		resp := &ocpp201.SetDisplayMessageResponse{Status: status}
		if reason != "" {
			resp.StatusInfo = &ocpp201.StatusInfo{ReasonCode: reason}
		}
		cp.log.Info("SetDisplayMessage", "id", info.Id, "priority", info.Priority, "status", status, "reason", reason)
		return resp
	}
	m := display.Message{ID: info.Id, Priority: display.Priority(info.Priority), State: display.State(info.State),
		Format: display.Format(info.Message.Format), Language: info.Message.Language, Content: info.Message.Content}
	if info.StartDateTime != nil {
		m.Start = info.StartDateTime.Time
	}
	if info.EndDateTime != nil {
		m.End = info.EndDateTime.Time
	}
	if info.TransactionId != "" {
		local, ok := localOf(info.TransactionId)
		if !ok {
			return answer(ocpp201.DisplayMessageStatusUnknownTransaction, ""), nil
		}
		m.Transaction = local
	}
	if d := info.Display; d != nil {
		if d.Name != displayComponent || d.Evse != nil && (d.Evse.Id < 1 || d.Evse.Id > cp.opts.Settings.Snapshot().NumberOfConnectors) {
			return answer(ocpp201.DisplayMessageStatusRejected, "UnknownComponent"), nil
		}
		m.Display = &display.Component{Name: d.Name, Instance: d.Instance}
		if d.Evse != nil {
			m.Display.EVSE = d.Evse.Id
			if d.Evse.ConnectorId != nil {
				m.Display.Connector = *d.Evse.ConnectorId
			}
		}
	}
	st, err := cp.Status(ctx)
	if err != nil {
		return nil, err
	}
	out, reason, err := cp.Display().Set(m, cp.opts.Clock.Now(), display.OngoingIn(st))
	if err != nil {
		cp.log.Error("SetDisplayMessage: the message could not be kept", "id", m.ID, "err", err)
		return answer(ocpp201.DisplayMessageStatusRejected, "InternalError"), nil
	}
	return answer(ocpp201.DisplayMessageStatus(out), reason), nil
}

// heldMessages are the display's messages now, stale ones removed.
func (cp *ChargePoint) heldMessages(ctx context.Context) ([]display.Message, error) {
	st, err := cp.Status(ctx)
	if err != nil {
		return nil, err
	}
	return cp.Display().List(cp.opts.Clock.Now(), display.OngoingIn(st))
}

// getDisplayMessages answers GetDisplayMessages (O03, O04): the messages
// that meet every criterion given (ids, priority, state) go in
// NotifyDisplayMessages after the answer, in parts of displayItems
// (tbc on all but the last); Unknown when none do. More ids than the
// display holds is OccurrenceConstraintViolation.
func (cp *ChargePoint) getDisplayMessages(ctx context.Context, r *ocpp201.GetDisplayMessagesRequest) (*ocpp201.GetDisplayMessagesResponse, error) {
	if n, most := len(r.Id), cp.Display().Capabilities().Max; n > most {
		return nil, rpc.Errorf(rpc.OccurrenceConstraintViolation, "%d ids asked, NumberOfDisplayMessages is %d", n, most)
	}
	held, err := cp.heldMessages(ctx)
	if err != nil {
		return nil, err
	}
	q := display.Query{IDs: r.Id, Priority: display.Priority(r.Priority), State: display.State(r.State)}
	var infos []ocpp201.MessageInfo
	for _, m := range held {
		if q.Matches(m) {
			infos = append(infos, messageInfo(m))
		}
	}
	if len(infos) == 0 {
		return &ocpp201.GetDisplayMessagesResponse{Status: ocpp201.GetDisplayMessagesStatusUnknown}, nil
	}
	requestID := r.RequestId
	cp.afterAnswer(ctx, "NotifyDisplayMessages", func(send func(any) error) {
		err := sendInParts(send, infos, displayItems, func(part []ocpp201.MessageInfo, _ int, more bool) any {
			req := ocpp201.NotifyDisplayMessagesRequest{RequestId: requestID, MessageInfo: part}
			if more {
				req.Tbc = &more
			}
			return req
		})
		if err != nil {
			cp.log.Warn("NotifyDisplayMessages not delivered; the rest is not sent", "request", requestID, "err", err)
		}
	})
	return &ocpp201.GetDisplayMessagesResponse{Status: ocpp201.GetDisplayMessagesStatusAccepted}, nil
}

// clearDisplayMessage answers ClearDisplayMessage (O05): Unknown for a
// message the display does not hold.
func (cp *ChargePoint) clearDisplayMessage(r *ocpp201.ClearDisplayMessageRequest) (*ocpp201.ClearDisplayMessageResponse, error) {
	ok, err := cp.Display().Clear(r.Id)
	if err != nil {
		return nil, rpc.Errorf(rpc.InternalError, "%v", err)
	}
	if !ok {
		return &ocpp201.ClearDisplayMessageResponse{Status: ocpp201.ClearMessageStatusUnknown}, nil
	}
	cp.log.Info("display message cleared", "id", r.Id)
	return &ocpp201.ClearDisplayMessageResponse{Status: ocpp201.ClearMessageStatusAccepted}, nil
}

// messageInfo is a message as 2.0.1 tells it.
func messageInfo(m display.Message) ocpp201.MessageInfo {
	info := ocpp201.MessageInfo{Id: m.ID, Priority: ocpp201.MessagePriority(m.Priority), State: ocpp201.MessageState(m.State),
		Message: ocpp201.MessageContent{Format: ocpp201.MessageFormat(m.Format), Language: m.Language, Content: m.Content}}
	if !m.Start.IsZero() {
		info.StartDateTime = &ocpp201.DateTime{Time: m.Start}
	}
	if !m.End.IsZero() {
		info.EndDateTime = &ocpp201.DateTime{Time: m.End}
	}
	if m.Transaction != 0 {
		info.TransactionId = TransactionID(m.Transaction)
	}
	if d := m.Display; d != nil {
		info.Display = &ocpp201.Component{Name: d.Name, Instance: d.Instance}
		if d.EVSE != 0 {
			info.Display.Evse = &ocpp201.EVSE{Id: d.EVSE}
			if d.Connector != 0 {
				c := d.Connector
				info.Display.Evse.ConnectorId = &c
			}
		}
	}
	return info
}

// sendInParts sends items with send, per at a time: build makes the
// payload of a part (its seqNo from 0, more on all but the last). It
// stops at the first CALL that fails.
func sendInParts[T any](send func(any) error, items []T, per int, build func(part []T, seq int, more bool) any) error {
	for seq := 0; seq*per < len(items); seq++ {
		part := items[seq*per : min((seq+1)*per, len(items))]
		if err := send(build(part, seq, (seq+1)*per < len(items))); err != nil {
			return fmt.Errorf("part %d: %w", seq, err)
		}
	}
	return nil
}

// displayVariables are DisplayMessageCtrlr's variables for a display of
// caps holding held messages: Available and Enabled (true: the
// charger's page is its display), DisplayMessages (2.0.1's
// NumberOfDisplayMessages: Actual how many are held, maxLimit how many
// it holds), SupportedFormats and SupportedPriorities.
func displayVariables(held int, caps display.Capabilities) []liveVariable {
	c := ocpp201.Component{Name: "DisplayMessageCtrlr"}
	most := float64(caps.Max)
	member := func(name string, values []string) liveVariable {
		list := strings.Join(values, ",")
		return liveVariable{component: c, variable: name, attrs: []liveAttr{{ocpp201.AttributeActual, list}},
			dataType: ocpp201.DataMemberList, valuesList: list, constant: true}
	}
	var formats, priorities []string
	for _, f := range caps.Formats {
		formats = append(formats, string(f))
	}
	for _, p := range caps.Priorities {
		priorities = append(priorities, string(p))
	}
	return []liveVariable{
		{component: c, variable: "Available", attrs: []liveAttr{{ocpp201.AttributeActual, "true"}}, dataType: ocpp201.DataBoolean, constant: true},
		{component: c, variable: "Enabled", attrs: []liveAttr{{ocpp201.AttributeActual, "true"}}, dataType: ocpp201.DataBoolean, constant: true},
		{component: c, variable: "DisplayMessages", attrs: []liveAttr{{ocpp201.AttributeActual, strconv.Itoa(held)}},
			dataType: ocpp201.DataInteger, maxLimit: &most},
		member("SupportedFormats", formats),
		member("SupportedPriorities", priorities),
	}
}
