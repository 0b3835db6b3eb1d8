"""Issue 7, CLI: ``massage demo`` shows the order chat (a phone number masked before storage, a virtual number),
a training notice, the outbox dispatcher and the messages Li Na and Chen Jing received."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from massage_cli.main import cli


def test_the_demo_shows_the_chat_the_outbox_and_both_inboxes(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    env = {"MASSAGE_DB": f"sqlite:///{db}", "MASSAGE_KEY_FILE": str(tmp_path / "keys.json"), "MASSAGE_TOKEN": "",
           "MASSAGE_KEYS": ""}
    result = CliRunner().invoke(cli, ["demo"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "the screener masks the phone before it is stored, so Chen Jing reads: '谢谢！下次想直接约，我的电话 " \
           "*************'" in out
    assert "138 0013 8000" not in out and "Li Na dials the virtual number +86171" in out
    assert "wrote its messages in the same transaction; the dispatcher now delivers" in out
    assert "the training notice reached 1 of 1 therapist(s)" in out
    lines = {line.split(" has ")[0]: line for line in out.splitlines() if line.startswith("[inbox]")}
    assert set(lines) == {"[inbox] Li Na", "[inbox] Chen Jing"}
    assert "退款成功: 订单 " in lines["[inbox] Li Na"] and "新手法培训: 本周六 14:00" in lines["[inbox] Chen Jing"]
    with sqlite3.connect(db) as conn:
        chats = conn.execute("SELECT count(*) FROM chat_messages").fetchone()[0]
        sent = conn.execute("SELECT count(*) FROM outbox_messages WHERE state = 'sent'").fetchone()[0]
        inbox = conn.execute("SELECT count(*) FROM inbox_items").fetchone()[0]
    assert chats == 2 and sent > 0 and inbox > 0
    assert b"13800138000" not in db.read_bytes() and "138 0013 8000".encode() not in db.read_bytes()
