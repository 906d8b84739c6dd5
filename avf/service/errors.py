"""One error handler for the whole service: every refusal or failure is a French page in
the theme (or a short JSON answer for the webhook endpoint, whose callers are programs)."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from avf.service.runtime import runtime

log = logging.getLogger(__name__)

FRENCH = {
    400: ("Demande incorrecte", "Le formulaire envoyé est incomplet ou abîmé. "
          "Revenez à la page précédente et réessayez."),
    401: ("Connexion nécessaire", "Cette page est réservée : connectez-vous pour y accéder."),
    403: ("Accès refusé", "Votre compte ne donne pas accès à cette page. Si vous pensez que "
          "c'est une erreur, contactez le responsable de votre AVF."),
    404: ("Page introuvable", "Cette page n'existe pas ou plus."),
    405: ("Action impossible", "Cette adresse ne s'utilise pas de cette façon."),
    413: ("Envoi trop volumineux", "Ce que vous avez envoyé est trop long."),
    429: ("Trop de tentatives", "Merci de patienter quelques minutes avant de réessayer."),
    500: ("Erreur du service", "Une erreur s'est produite de notre côté. Rien de ce que vous "
          "avez envoyé n'est perdu ; réessayez dans quelques minutes."),
    503: ("Service momentanément indisponible", "Réessayez dans quelques minutes."),
}


async def http_error(request: Request, error: Exception) -> Response:
    status = error.status_code if isinstance(error, HTTPException) else 500
    location = (getattr(error, "headers", None) or {}).get("Location")
    if 300 <= status < 400 and location:
        # A refusal that is a redirect (permissions.SignInRequired): no page, just go.
        return Response(status_code=status, headers={"Location": location})
    if status == 500:
        log.exception("unhandled error on %s", request.url.path, exc_info=error)
    title, explanation = FRENCH.get(status, (f"Erreur {status}", ""))
    detail = error.detail if isinstance(error, HTTPException) else None
    if request.url.path.startswith("/hooks/"):
        return JSONResponse({"error": detail or title}, status_code=status)
    headers = getattr(error, "headers", None)
    response = runtime(request).templates.render(
        request, "service/error.html",
        {"title": title, "explanation": detail if _is_french(detail) else explanation},
        status_code=status)
    if headers:
        response.headers.update(headers)
    return response


def _is_french(detail: object) -> bool:
    """A detail written for people (our own HTTPException messages) is shown as is;
    Starlette's English defaults ("Not Found") are replaced by the French explanation."""
    return isinstance(detail, str) and detail not in {
        "Not Found", "Method Not Allowed", "Bad Request", "Internal Server Error",
        "Unauthorized", "Forbidden", "Too Many Requests"} and len(detail) > 20


HANDLERS = {HTTPException: http_error, Exception: http_error}
