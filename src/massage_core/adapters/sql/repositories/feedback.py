"""Feedback: the ``platform_feedback`` row (optimistic ``version``) and its ``platform_feedback_replies``
(decision 0038).  The text and each reply are sealed with the FieldCodec, bound to their row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import attrs
from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.fields import FEEDBACK_REPLY_TEXT, FEEDBACK_TEXT, FieldCodec
from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables_complaints import platform_feedback, platform_feedback_replies
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.feedback import Feedback, FeedbackId, FeedbackKind, FeedbackReply, FeedbackState
from massage_core.domain.ids import AccountId
from massage_core.ports.feedback import PAGE, FeedbackRepository

DUPLICATE = "feedback.duplicate"

_f, _r = platform_feedback, platform_feedback_replies
_BY_ID = select(_f).where(_f.c.id == bindparam("p_id"))
_REPLIES_OF = (select(_r).where(_r.c.feedback_id.in_(bindparam("p_ids", expanding=True)))
               .order_by(_r.c.feedback_id, _r.c.position))
_REPLY_COUNT = select(func.count()).select_from(_r).where(_r.c.feedback_id == bindparam("p_id"))


class SqlFeedbackRepository(FeedbackRepository):
    """The ``platform_feedback`` and ``platform_feedback_replies`` tables; see the module docstring."""

    def __init__(self, connection: Connection, codec: FieldCodec) -> None:
        self._conn = connection
        self._codec = codec

    def _insert_replies(self, item: Feedback, first: int) -> None:
        rows = [{"feedback_id": item.id, "position": n, "at": reply.at, "admin_id": reply.admin_id,
                 "text_enc": self._codec.seal(FEEDBACK_REPLY_TEXT, (item.id, n), reply.text)}
                for n, reply in enumerate(item.replies) if n >= first]
        if rows:
            self._conn.execute(insert(_r), rows)

    def _load(self, rows: Sequence[Row[Any]]) -> list[Feedback]:
        if not rows:
            return []
        replies: dict[str, list[FeedbackReply]] = defaultdict(list)
        for reply in self._conn.execute(_REPLIES_OF, {"p_ids": [row.id for row in rows]}):
            text = self._codec.open(FEEDBACK_REPLY_TEXT, (reply.feedback_id, reply.position), reply.text_enc)
            replies[reply.feedback_id].append(FeedbackReply(reply.at, AccountId(reply.admin_id), text))
        return [Feedback(FeedbackId(row.id), AccountId(row.author_id), FeedbackKind(row.kind),
                         self._codec.open(FEEDBACK_TEXT, (row.id,), row.text_enc), row.submitted_at,
                         FeedbackState(row.state), tuple(replies[row.id]), row.version) for row in rows]

    def add(self, item: Feedback) -> Feedback:
        with guarded(self._conn, duplicate=DUPLICATE):
            if self._conn.execute(_BY_ID, {"p_id": item.id}).first() is not None:
                raise Conflict(f"feedback {item.id} already exists", code=DUPLICATE)
            self._conn.execute(insert(_f).values(
                id=item.id, author_id=item.author_id, kind=item.kind.value,
                text_enc=self._codec.seal(FEEDBACK_TEXT, (item.id,), item.text), state=item.state.value,
                submitted_at=item.submitted_at, version=1))
            self._insert_replies(item, 0)
        return attrs.evolve(item, version=1)

    def get(self, ident: FeedbackId) -> Feedback:
        row = self._conn.execute(_BY_ID, {"p_id": ident}).first()
        if row is None:
            raise NotFound("feedback", ident)
        return self._load([row])[0]

    def save(self, item: Feedback) -> Feedback:
        new_version = item.version + 1
        with guarded(self._conn, duplicate=DUPLICATE):
            result = self._conn.execute(update(_f).where(_f.c.id == item.id, _f.c.version == item.version)
                                        .values(state=item.state.value, version=new_version))
            if result.rowcount == 0:
                if self._conn.execute(_BY_ID, {"p_id": item.id}).first() is None:
                    raise NotFound("feedback", item.id)
                raise Conflict("the feedback was changed by somebody else; reload it", code="conflict.stale")
            self._insert_replies(item, self._conn.execute(_REPLY_COUNT, {"p_id": item.id}).scalar_one())
        return attrs.evolve(item, version=new_version)

    def _page(self, *where: Any, newest: bool, offset: int, limit: int) -> list[Feedback]:
        order = (_f.c.submitted_at.desc(), _f.c.id.desc()) if newest else (_f.c.submitted_at, _f.c.id)
        query = select(_f).where(*where).order_by(*order).offset(max(offset, 0)).limit(max(limit, 0))
        return self._load(self._conn.execute(query).all())

    def for_author(self, author_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Feedback]:
        return self._page(_f.c.author_id == author_id, newest=True, offset=offset, limit=limit)

    def list(self, state: FeedbackState | None = None, *, offset: int = 0, limit: int = PAGE) -> Sequence[Feedback]:
        where = () if state is None else (_f.c.state == state.value,)
        return self._page(*where, newest=False, offset=offset, limit=limit)
