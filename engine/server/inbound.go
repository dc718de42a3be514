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
	form, body, err := readForm(c.Request(), cfg)
	if err != nil {
		return err
	}

	msg := script.MessageFromForm(form)
	if err := s.verify(c.Request(), msg, form, body); err != nil {
		return err
	}
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
func readForm(r *http.Request, cfg *config.Config) (url.Values, []byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, nil, echo.NewHTTPError(http.StatusUnsupportedMediaType,
			"the body is not application/x-www-form-urlencoded")
	}
	limit := int64(cfg.MaxBody)
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge,
				fmt.Sprintf("the body is over %d bytes", limit))
		}
		return nil, nil, echo.NewHTTPError(http.StatusBadRequest, "read body: "+err.Error())
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, nil, echo.NewHTTPError(http.StatusBadRequest, "parse form: "+err.Error())
	}
	if len(form) > cfg.MaxParams {
		return nil, nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge,
			fmt.Sprintf("the form has %d parameters, over the limit of %d",
				len(form), cfg.MaxParams))
	}
	return form, body, nil
}

// verify checks the request's signature with the token of the number it
// is sent to. With no token configured, nothing is checked (the server
// warned at start).
func (s *Server) verify(r *http.Request, msg *script.Message, form url.Values,
	body []byte) error {
	a := s.auth.Load()
	token := a.token(msg.To)
	if token == "" {
		return nil
	}
	if err := a.verifier.Check(r, token, form, body); err != nil {
		return refuse(http.StatusForbidden, err.Error(),
			slog.String("number", msg.To), slog.String("message_sid", msg.Sid))
	}
	return nil
}
