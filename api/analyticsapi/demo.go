package analyticsapi

import (
	"net/http"

	"github.com/spatehq/spate/analytics/demo"
)

// demoRequest is POST /v1/demo's body.
type demoRequest struct {
	Stream string `json:"stream"`
	Rate   int    `json:"rate"` // records per second; 0: demo.DefaultRate
}

// demoListReply is GET /v1/demo's reply.
type demoListReply struct {
	Producers []demo.ProducerInfo `json:"producers"`
}

// startDemo starts the server-side stock-ticker producer of a stream,
// creating the stream when it does not exist: 201 when it started, 200
// with the running producer when one fed the stream already.
func (h *Handler) startDemo(w http.ResponseWriter, r *http.Request) {
	var req demoRequest
	if err := decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	// The guard authorized kinesis:PutRecords on the stream; creating it
	// is a CreateStream too, checked by Start where it creates the stream
	// (a check here could pass for a stream deleted just after it).
	var mayCreate func() error
	if h.cfg.guard != nil {
		mayCreate = func() error {
			return h.cfg.guard.Authorize(r.Context(), "kinesis:CreateStream", h.cfg.guard.ARN("kinesis", "stream/"+req.Stream))
		}
	}
	info, started, err := h.demo.Start(r.Context(), req.Stream, req.Rate, mayCreate)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if started {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/demo/"+info.Stream)
	}
	h.reply(w, r, status, info)
}

func (h *Handler) listDemo(w http.ResponseWriter, r *http.Request) {
	h.reply(w, r, http.StatusOK, demoListReply{Producers: h.demo.List()})
}

func (h *Handler) stopDemo(w http.ResponseWriter, r *http.Request) {
	if err := h.demo.Stop(r.PathValue("stream")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
