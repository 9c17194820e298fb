"""The decision API that Hansken asks on every access: ``check``, ``check-batch``, ``projects`` and
``subjects``, one module per job.

This is the hot path. The views are DRF views so that the OpenAPI schema describes them, but their
``dispatch`` skips DRF's request wrapping, content negotiation and per-request token query: the
client is found by token digest in the in-process fact cache (``authz.cache``), which the change
feed (PostgreSQL ``NOTIFY``, read without a round trip) and one pipelined Redis read per request keep
exact. Any failure on the way — a database or cache error included — answers with
an error status, never ``allowed: true``.

- ``problems``: the error a request gets (``RequestProblem``) and the JSON answer.
- ``authentication``: the machine client behind the bearer token (the rule itself is
  ``api_clients.authentication``'s).
- ``parsing``: what a check, a batch item or a query parameter must be.
- ``deciding``: the decisions of checks, and the batch's short way (remembered answers).
- ``ids``: time-ordered decision ids.
- ``denials``: the denial writer (every denied decision is an audit event).
- ``bodies``: the hand-built answer bodies.
- ``views``: the thin views.
"""
