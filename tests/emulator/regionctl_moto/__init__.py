"""regionctl's extensions to moto: missing operations, fixes, and slow resources.

moto 5.2 creates everything ready at once and lacks some operations regionctl uses (see
docs/testing.md). Each module here patches one service, following the AWS API reference, and is
installed before the server starts. `wrap_app()` adds the control endpoints tests use:

- GET  /regionctl/health                       -> {"ok": true}
- POST /regionctl/delay {"kind": K, "describes": N}
      resources of regionctl kind K created (or deleted) from now on stay pending for N
      describes before they are ready (or gone); N = 0 turns it off.
- POST /regionctl/tagging {"lagging": true|false}
      GetResources leaves out the RDS and ElastiCache resources regionctl reads through it, as an
      eventually consistent index that has not caught up would (see tagging.py).
- POST /moto-api/reset also clears the delays and the lagging index.
"""

import importlib
import json
import pkgutil

from . import delay, tagging


def install() -> None:
    """Registers every extension with moto: each module of this package that defines install()
    (one per AWS service), so a new service's extension needs no registration here. A module
    another one installs as part of its own says so with INSTALLED_BY."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "install") and not hasattr(module, "INSTALLED_BY"):
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
        if path == "/regionctl/tagging" and method == "POST":
            try:
                size = int(environ.get("CONTENT_LENGTH") or 0)
                body = json.loads(environ["wsgi.input"].read(size) or b"{}")
                return answer(start_response, "200 OK", tagging.configure(body["lagging"]))
            except (KeyError, ValueError, TypeError) as e:
                return answer(start_response, "400 Bad Request", {"error": str(e)})
        if path == "/moto-api/reset" and method == "POST":
            delay.reset()
            tagging.reset()
        return app(environ, start_response)

    return wrapped
