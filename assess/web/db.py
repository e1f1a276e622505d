"""The web app's database: consultants, engagements, respondents, answers, uploads, report jobs.

The engagement folder stays the source of truth for everything the domain core reads (settings,
raw exports, overrides); the database holds what a web app needs on top: accounts, self-assessment
links, one row per answer (so concurrent saves never overwrite each other), uploads awaiting
confirmation, report jobs, and login failures (the rate limit shared by every worker process).

SQLite is the embedded default (WAL mode; writes in BEGIN IMMEDIATE transactions with a busy
timeout, so two workers never interleave a read-modify-write); PostgreSQL through DATABASE_URL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_MS = 5000  # SQLite waits this long for the write lock per try (PRAGMA busy_timeout)
WRITE_WAIT = 30.0  # seconds a write waits for the lock in all, retrying with backoff


class DatabaseBusy(RuntimeError):
    """The write lock stayed taken for WRITE_WAIT seconds (another process holds it): nothing
    was written; the caller says so and keeps what the user sent."""


def utcnow() -> dt.datetime:
    """Naive UTC (SQLite keeps no zone; every timestamp here is UTC), to the microsecond: an
    answer's updated_at tells two saves in the same second apart."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    # bumped by signing out: a session cookie carries the generation it was made in, and one
    # from an older generation (a copied cookie, another browser) is no longer signed in
    session_gen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class EngagementRow(Base):
    __tablename__ = "engagements"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    client: Mapped[str] = mapped_column(String(200))
    folder: Mapped[str] = mapped_column(String(300), unique=True)  # under <home>/engagements/
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    archived_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Respondent(Base):
    """Who answers a questionnaire: the intake interview (one per engagement, led by the
    consultant) or one member of the client's staff through a self-assessment link."""

    __tablename__ = "respondents"
    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    questionnaire: Mapped[str] = mapped_column(String(50))  # intake | self_assessment
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(5), default="en")
    slug: Mapped[str] = mapped_column(String(120))  # answers/self/<slug>.yaml
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    opened_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # Start pressed
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("engagement_id", "slug"),)

    def link_state(self, now: dt.datetime | None = None) -> str:
        now = now or utcnow()
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= now:
            return "expired"
        if self.submitted_at:
            return "submitted"
        if self.started_at:
            return "started"
        return "opened" if self.opened_at else "created"


class Answer(Base):
    """One answer to one question: a row of its own, written by an upsert."""

    __tablename__ = "answers"
    id: Mapped[int] = mapped_column(primary_key=True)
    respondent_id: Mapped[int] = mapped_column(ForeignKey("respondents.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("respondent_id", "question_id"),)


class Upload(Base):
    __tablename__ = "uploads"
    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    original_name: Mapped[str] = mapped_column(String(300))
    stored_name: Mapped[str] = mapped_column(String(100))  # generated, under <home>/uploads/
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="uploaded")  # uploaded|imported|discarded
    options: Mapped[Any] = mapped_column(JSON, nullable=True)
    result: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ReportJob(Base):
    __tablename__ = "report_jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued|running|done|failed
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    files: Mapped[Any] = mapped_column(JSON, nullable=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=True)
    kind: Mapped[str] = mapped_column(String(40), default="all", server_default="all")  # all|<report>
    state: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the folder state rendered
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)  # host:pid running it
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    __table_args__ = (UniqueConstraint("engagement_id", "version"),)


class LoginFailure(Base):
    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), index=True)  # "email:<addr>" or "ip:<addr>"
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


def database_url(home: Path, url: str | None = None) -> str:
    """DATABASE_URL when given (postgres:// and postgresql:// use psycopg 3), else SQLite in HOME."""
    if url:
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix):]
        return url
    return f"sqlite:///{Path(home).resolve() / 'assess.db'}"


class Database:
    def __init__(self, url: str):
        self.url = url
        self.sqlite = url.startswith("sqlite")
        self.engine: Engine = create_engine(url, pool_pre_ping=not self.sqlite)
        if self.sqlite:
            _sqlite_pragmas(self.engine)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: BEGIN IMMEDIATE on SQLite (the write lock is taken first, so a
        concurrent writer waits instead of failing at commit); committed on success."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(immediate=True)
            with Session(bind=conn, expire_on_commit=False) as s:
                if self.sqlite:
                    _take_write_lock(s)
                yield s
                s.commit()

    def upgrade(self) -> None:
        """Bring the schema to the latest Alembic revision (idempotent)."""
        from alembic import command

        with self.engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def dispose(self) -> None:
        self.engine.dispose()


def _take_write_lock(s: Session) -> None:
    """BEGIN IMMEDIATE before any of the caller's work, retried with backoff while another
    process holds the lock (each try waits BUSY_MS), DatabaseBusy after WRITE_WAIT seconds."""
    import time

    from sqlalchemy.exc import OperationalError

    delay, deadline = 0.1, time.monotonic() + WRITE_WAIT
    while True:
        try:
            s.connection()  # the session begins: BEGIN IMMEDIATE takes the write lock
            return
        except OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            s.rollback()
            if time.monotonic() + delay > deadline:
                raise DatabaseBusy(f"the database stayed busy for {WRITE_WAIT:g} s") from None
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def alembic_config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def begin(conn):
        immediate = conn.get_execution_options().get("immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def upsert_answer(s: Session, respondent_id: int, question_id: str, value: Any,
                  note: str | None, now: dt.datetime | None = None) -> None:
    """Insert or update one answer row (INSERT .. ON CONFLICT DO UPDATE on both databases)."""
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    now = now or utcnow()
    stmt = insert(Answer).values(respondent_id=respondent_id, question_id=question_id, value=value,
                                 note=note, updated_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=["respondent_id", "question_id"],
                                      set_={"value": value, "note": note, "updated_at": now})
    s.execute(stmt)


def count_failures(s: Session, keys: list[str], since: dt.datetime) -> int:
    return s.scalar(select(func.count()).select_from(LoginFailure)
                    .where(LoginFailure.key.in_(keys), LoginFailure.at >= since)) or 0
