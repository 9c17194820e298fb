"""A tiny OpenID Connect provider for the tests: ``http.server`` in a thread on 127.0.0.1.

It implements just the authorization code flow that mozilla-django-oidc uses:

- ``/authorize``: answers at once (no login form) with a redirect back to ``redirect_uri`` carrying a
  fresh code and the caller's ``state``; it remembers the caller's ``nonce`` for that code;
- ``/token``: checks the client id and secret, the redirect URI and the code (single use), and returns
  an access token and an RS256-signed ID token with ``iss``, ``sub``, ``aud`` (the client id), ``iat``,
  ``exp``, ``nonce``, ``preferred_username`` and ``email``;
- ``/userinfo``: the claims of the person behind a bearer access token;
- ``/jwks``: the public half of the signing key;
- ``/.well-known/openid-configuration``: the discovery document.

A test shapes the next sign-in through ``provider.next`` (who signs in, and how the ID token should
be wrong: another signing key, another kid, another nonce, audience, issuer or an expired token).
Every code, nonce, state and token the provider handed out is kept in ``provider.secrets_seen`` so a
test can check that none of them reached the audit trail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class NextSignIn:
    """How the provider answers the next authorization. Defaults: a correct answer."""

    username: str = "investigator"
    email: str = "someone@idp.example"
    signing_key: rsa.RSAPrivateKey | None = None  # None: the key published in the JWKS
    kid: str | None = None  # None: the published key's kid
    nonce: str | None = None  # None: echo the nonce the client sent
    audience: str | None = None  # None: the client id
    issuer: str | None = None  # None: the provider's own issuer
    expires_in: int = 300  # negative: an expired token
    userinfo_sub: str | None = None  # None: same subject as the ID token
    subject: str | None = None  # None: "sub-<username>"
    # A forged ID token: "none" (alg none, no signature) or "hs256_public_key" (HS256 with the
    # provider's public key as the HMAC secret: the classic algorithm-confusion attack).
    forge: str | None = None


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    answer: NextSignIn


@dataclass
class OIDCProvider:
    client_id: str = "hansken-governance"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    kid: str = "test-key-1"
    next: NextSignIn = field(default_factory=NextSignIn)
    token_requests: int = 0
    secrets_seen: list[str] = field(default_factory=list)
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _access: dict[str, dict[str, Any]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- life cycle ------------------------------------------------------------------------------

    def start(self) -> OIDCProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider._handle(self, "GET")

            def do_POST(self) -> None:
                provider._handle(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reset(self) -> None:
        with self._lock:
            self.next = NextSignIn()
            self.token_requests = 0
            self.secrets_seen.clear()
            self._codes.clear()
            self._access.clear()

    # --- addresses and the settings a client needs ------------------------------------------------

    @property
    def issuer(self) -> str:
        assert self._server is not None, "start() the provider first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def settings(self) -> dict[str, Any]:
        return {
            "OIDC_ENABLED": True,
            "OIDC_RP_CLIENT_ID": self.client_id,
            "OIDC_RP_CLIENT_SECRET": self.client_secret,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.issuer}/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.issuer}/token",
            "OIDC_OP_USER_ENDPOINT": f"{self.issuer}/userinfo",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.issuer}/jwks",
            "OIDC_RP_SIGN_ALGO": "RS256",
            "OIDC_RP_SCOPES": "openid email profile",
            "OIDC_USERNAME_CLAIM": "preferred_username",
            "OIDC_OP_ISSUER": self.issuer,
            "OIDC_TIMEOUT": 5,
        }

    def jwks(self) -> dict[str, Any]:
        public = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    # --- the endpoints ---------------------------------------------------------------------------

    def _handle(self, http: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(http.path)
        routes = {
            ("GET", "/.well-known/openid-configuration"): self._discovery,
            ("GET", "/authorize"): self._authorize,
            ("POST", "/token"): self._token,
            ("GET", "/userinfo"): self._userinfo,
            ("GET", "/jwks"): self._jwks,
        }
        route = routes.get((method, url.path))
        if route is None:
            self._send(http, 404, {"error": "not_found"})
            return
        if method == "POST":
            length = int(http.headers.get("Content-Length") or 0)
            params = parse_qs(http.rfile.read(length).decode())
        else:
            params = parse_qs(url.query)
        route(http, {key: values[0] for key, values in params.items()})

    def _discovery(self, http: BaseHTTPRequestHandler, params: dict[str, str]) -> None:
        self._send(
            http,
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            },
        )

    def _authorize(self, http: BaseHTTPRequestHandler, params: dict[str, str]) -> None:
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != self.client_id or params.get("response_type") != "code":
            self._send(http, 400, {"error": "invalid_request"})
            return
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = _Grant(self.client_id, redirect_uri, params.get("nonce"), self.next)
            self.secrets_seen.extend([code, params.get("state", ""), params.get("nonce", "")])
        back = {"code": code, "state": params.get("state", "")}
        http.send_response(302)
        http.send_header("Location", f"{redirect_uri}?{urlencode(back)}")
        http.send_header("Content-Length", "0")
        http.end_headers()

    def _token(self, http: BaseHTTPRequestHandler, params: dict[str, str]) -> None:
        with self._lock:
            self.token_requests += 1
            grant = self._codes.pop(params.get("code", ""), None)  # a code works once
        if (
            grant is None
            or params.get("grant_type") != "authorization_code"
            or params.get("client_id") != self.client_id
            or params.get("client_secret") != self.client_secret
            or params.get("redirect_uri") != grant.redirect_uri
        ):
            self._send(http, 400, {"error": "invalid_grant"})
            return
        answer = grant.answer
        now = int(time.time())
        sub = answer.subject or f"sub-{answer.username}"
        claims = {
            "iss": answer.issuer or self.issuer,
            "sub": sub,
            "aud": answer.audience or self.client_id,
            "iat": now,
            "exp": now + answer.expires_in,
            "nonce": answer.nonce if answer.nonce is not None else grant.nonce,
            "preferred_username": answer.username,
            "email": answer.email,
        }
        if answer.forge is not None:
            id_token = self._forged(claims, answer.forge)
        else:
            id_token = jwt.encode(
                claims,
                answer.signing_key or self.key,
                algorithm="RS256",
                headers={"kid": answer.kid or self.kid},
            )
        access_token = secrets.token_urlsafe(24)
        userinfo = {
            "sub": answer.userinfo_sub or sub,
            "preferred_username": answer.username,
            "email": answer.email,
        }
        with self._lock:
            self._access[access_token] = userinfo
            self.secrets_seen.extend([id_token, access_token])
        self._send(
            http,
            200,
            {"access_token": access_token, "token_type": "Bearer", "expires_in": 300, "id_token": id_token},
        )

    def _userinfo(self, http: BaseHTTPRequestHandler, params: dict[str, str]) -> None:
        header = http.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        with self._lock:
            userinfo = self._access.get(token)
        if not header.startswith("Bearer ") or userinfo is None:
            self._send(http, 401, {"error": "invalid_token"})
            return
        self._send(http, 200, userinfo)

    def _jwks(self, http: BaseHTTPRequestHandler, params: dict[str, str]) -> None:
        self._send(http, 200, self.jwks())

    def _forged(self, claims: dict[str, Any], how: str) -> str:
        """An ID token no honest provider would sign, built by hand (PyJWT refuses to make them)."""

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        if how == "none":
            header = {"alg": "none", "typ": "JWT", "kid": self.kid}
            return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."
        if how == "hs256_public_key":
            header = {"alg": "HS256", "typ": "JWT", "kid": self.kid}
            signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
            public_pem = self.key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
            return f"{signing_input}.{b64(signature)}"
        raise ValueError(f"unknown forgery {how!r}")

    @staticmethod
    def _send(http: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        http.send_response(status)
        http.send_header("Content-Type", "application/json")
        http.send_header("Content-Length", str(len(data)))
        http.send_header("Cache-Control", "no-store")
        http.end_headers()
        http.wfile.write(data)
