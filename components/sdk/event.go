package avs

import "encoding/json"

// TriggerEvent is the input of a task an event trigger opened: where the
// chain event is and the event itself, attributes in the chain's order. The
// sidecar builds it from the block's results; every operator builds the same.
//
//	{"trigger":"event","service_id":3,"height":120,"tx_hash":"AB…","event_index":7,
//	 "event":{"type":"wasm-avs_announce","attributes":[{"key":"_contract_address","value":"avs1…"},…]}}
type TriggerEvent struct {
	Trigger    string `json:"trigger"`
	ServiceID  uint64 `json:"service_id"`
	Height     int64  `json:"height"`
	TxHash     string `json:"tx_hash"` // empty for an event of the block itself
	EventIndex uint32 `json:"event_index"`
	Event      struct {
		Type       string           `json:"type"`
		Attributes []EventAttribute `json:"attributes"`
	} `json:"event"`
}

// EventAttribute is one attribute of a chain event.
type EventAttribute struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ParseTriggerEvent reports whether input is an event trigger's input and
// parses it.
func ParseTriggerEvent(input []byte) (TriggerEvent, bool) {
	var e TriggerEvent
	if err := json.Unmarshal(input, &e); err != nil || e.Trigger != "event" || e.Event.Type == "" {
		return TriggerEvent{}, false
	}
	return e, true
}

// Attr returns the value of the event's first attribute named key.
func (e TriggerEvent) Attr(key string) (string, bool) {
	for _, a := range e.Event.Attributes {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}
