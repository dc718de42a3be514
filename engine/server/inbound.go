package server

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/lamlhost/lamlhost/engine/config"
	"github.com/lamlhost/lamlhost/engine/script"
)

// inbound answers one webhook: parse, route, run, write.
func (s *Server) inbound(c echo.Context) error {
	cfg := s.reg.Config()
	form, err := readForm(c.Request(), cfg)
	if err != nil {
		return err
	}

	msg := script.MessageFromForm(form)
	if msg.To == "" || msg.From == "" {
		return refuse(http.StatusBadRequest, "the form has no To or From",
			slog.String("message_sid", msg.Sid))
	}

	rt := s.reg.Lookup(msg.To)
	if rt == nil {
		return refuse(http.StatusNotFound, "no script answers this number",
			slog.String("number", msg.To), slog.String("message_sid", msg.Sid))
	}

	a := s.disp.Answer(c.Request().Context(), rt, msg)
	return c.Blob(a.Status, contentType, a.Body)
}

// readForm checks the content type, reads the body within the size limit
// and parses it. The query string is not mixed into the form.
func readForm(r *http.Request, cfg *config.Config) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, echo.NewHTTPError(http.StatusUnsupportedMediaType,
			"the body is not application/x-www-form-urlencoded")
	}
	limit := int64(cfg.MaxBody)
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge,
				fmt.Sprintf("the body is over %d bytes", limit))
		}
		return nil, echo.NewHTTPError(http.StatusBadRequest, "read body: "+err.Error())
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "parse form: "+err.Error())
	}
	if len(form) > cfg.MaxParams {
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge,
			fmt.Sprintf("the form has %d parameters, over the limit of %d",
				len(form), cfg.MaxParams))
	}
	return form, nil
}
