"""Consultant accounts: sign-in with hashed passwords (werkzeug's scrypt), sessions, the login
rate limit (failures counted in the database, so it holds across every worker process)."""

from __future__ import annotations

import contextlib
import functools
import re

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length, Regexp

from .db import LoginFailure, User, count_failures, utcnow

bp = Blueprint("auth", __name__)
MIN_PASSWORD = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# checked when the e-mail is unknown, so a wrong address costs the same time as a wrong password
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def ws():
    return current_app.extensions["assess"]


def db_session():
    if "db" not in g:
        g.db = ws().db.session()
    return g.db


@contextlib.contextmanager
def write():
    """A write transaction for this request; afterwards the request's reads see what it wrote
    (its read session's snapshot is ended)."""
    with ws().db.write() as s:
        yield s
    if "db" in g:
        g.db.rollback()


def create_user(db, email: str, name: str, password: str) -> User:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise ValueError(f"{email!r} is not an e-mail address")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password must have at least {MIN_PASSWORD} characters")
    with db.write() as s:
        if s.scalar(select(User).where(User.email == email)):
            raise ValueError(f"an account for {email} already exists")
        user = User(email=email, name=name.strip() or email, password_hash=generate_password_hash(password))
        s.add(user)
    return user


def current_user() -> User | None:
    """The signed-in consultant: the session's user, if the session was made in the user's
    current generation (signing out bumps it, so a copied cookie stops working)."""
    if "user" not in g:
        uid = session.get("uid")
        user = db_session().get(User, uid) if isinstance(uid, int) else None
        if user is not None and session.get("gen") != user.session_gen:
            user = None
        g.user = user
    return g.user


_CONTROL = re.compile(r"[\x00-\x20\x7f\\]")


def safe_next(target: str | None) -> str:
    """A path on this site to return to after sign-in, else the engagements page. Refused: any
    scheme or host, '//' (a browser's other host), backslashes, and every control or space
    character (a browser drops a tab or a line break, so '/%09/evil.example' is '//evil.example';
    CR LF would split the Location header)."""
    from urllib.parse import urlsplit

    fallback = url_for("engagements.index")
    if not target or not target.startswith("/") or target.startswith("//") or _CONTROL.search(target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            if request.is_json or request.path.endswith(".json"):
                return jsonify(error="signed_out", message="Your session ended: sign in again. "
                               "Your unsaved answers are kept in this browser."), 401
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[
        DataRequired(), Regexp(_EMAIL.pattern, message="Enter an e-mail address.")])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def _client_ip() -> str:
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        keys = [f"email:{email}", f"ip:{_client_ip()}"]
        cfg = current_app.config
        since = utcnow() - cfg["LOGIN_WINDOW"]
        with write() as s:  # count and record in one immediate transaction
            s.execute(delete(LoginFailure).where(LoginFailure.at < since))  # forget old failures
            by_email = count_failures(s, keys[:1], since)
            by_ip = count_failures(s, keys[1:], since)
            if by_email >= cfg["LOGIN_LIMIT"] or by_ip >= cfg["LOGIN_IP_LIMIT"]:
                minutes = int(cfg["LOGIN_WINDOW"].total_seconds() // 60)
                abort(429, description=f"Too many failed sign-ins for this account or address. "
                                       f"Wait {minutes} minutes, then try again.")
            user = s.scalar(select(User).where(User.email == email))
            ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, form.password.data)
            if ok and user:
                s.execute(delete(LoginFailure).where(LoginFailure.key == keys[0]))
            else:
                s.add_all([LoginFailure(key=k) for k in keys])
        if ok and user:
            session.clear()
            session.permanent = True
            session["uid"] = user.id
            session["gen"] = user.session_gen
            return redirect(safe_next(request.args.get("next")))
        error = "That e-mail and password do not match an account."
    return render_template("login.html", form=form, error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    """Sign out everywhere: the user's session generation is bumped, so this cookie and any copy
    of it (or another browser's) no longer signs anyone in."""
    user = current_user()
    if user is not None:
        with write() as s:
            live = s.get(User, user.id)
            live.session_gen = (live.session_gen or 0) + 1
    session.clear()
    return redirect(url_for("auth.login"))


@bp.get("/csrf-token")
def csrf_token():
    """A fresh CSRF token for the page's scripts (an open page outlives its token)."""
    return jsonify(token=generate_csrf())


@bp.get("/")
def home():
    if current_user():
        return redirect(url_for("engagements.index"))
    if session.get("respondent"):
        return redirect(url_for("interview.respondent_form"))
    return redirect(url_for("auth.login"))
