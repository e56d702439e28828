"""regionctl's extensions to moto: missing operations, fixes, and slow resources.

moto 5.2 creates everything ready at once and lacks some operations regionctl uses (see
docs/testing.md). Each module here patches one service, following the AWS API reference, and is
installed before the server starts. `wrap_app()` adds the control endpoints tests use:

- GET  /regionctl/health                       -> {"ok": true}
- POST /regionctl/delay {"kind": K, "describes": N}
      resources of regionctl kind K created (or deleted) from now on stay pending for N
      describes before they are ready (or gone); N = 0 turns it off.
- POST /moto-api/reset also clears the delays.
"""

import importlib
import json

from . import delay

# One module per AWS service; each defines install().
SERVICES = ["ec2", "eks", "rds", "elasticache", "route53", "iam", "logs"]


def install() -> None:
    """Registers every extension with moto."""
    for name in SERVICES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{name}":
                continue  # no extension for this service
            raise
        module.install()


def wrap_app(app):
    """Adds regionctl's control endpoints in front of moto's WSGI app."""

    def answer(start_response, status, payload):
        body = json.dumps(payload).encode()
        start_response(status, [("Content-Type", "application/json")])
        return [body]

    def wrapped(environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/regionctl/health":
            return answer(start_response, "200 OK", {"ok": True})
        if path == "/regionctl/delay" and method == "POST":
            try:
                size = int(environ.get("CONTENT_LENGTH") or 0)
                body = json.loads(environ["wsgi.input"].read(size) or b"{}")
                delay.configure(str(body["kind"]), int(body["describes"]))
            except (KeyError, ValueError, TypeError) as e:
                return answer(start_response, "400 Bad Request", {"error": str(e)})
            return answer(start_response, "200 OK", delay.configured())
        if path == "/moto-api/reset" and method == "POST":
            delay.reset()
        return app(environ, start_response)

    return wrapped
