"""Issue 6, CLI: ``massage demo`` leaves reviews (double-blind, a reply, a masked WeChat id), a complaint with
mediation, and prints a ranking -- checked in its output and in the database it leaves (review R1)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from massage_cli.main import cli


def test_the_demo_tells_the_reviews_complaints_and_ranking_story(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    env = {"MASSAGE_DB": f"sqlite:///{db}", "MASSAGE_KEY_FILE": str(tmp_path / "keys.json"), "MASSAGE_TOKEN": "",
           "MASSAGE_KEYS": ""}
    result = CliRunner().invoke(cli, ["demo"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Chen Jing cannot read it yet -- double-blind" in out and "now visible: True" in out
    assert "Chen Jing replies once, publicly (reply approved)" in out
    assert "the screener finds contact_id -> pending, in the queue (True)" in out
    assert "cj_massage88" not in out and "加她微信 ************' (approved)" in out
    assert "open -> therapist_responded -> under_mediation -> resolved; partial_refund ¥30.00" in out
    assert re.search(r"\[ranking\] .* #1 Chen Jing \d+\.\d\d", out), out
    with sqlite3.connect(db) as conn:
        states = sorted(state for (state,) in conn.execute("SELECT state FROM reviews"))
        replies = [state for (state,) in conn.execute("SELECT reply_state FROM reviews WHERE reply_state IS NOT NULL")]
        texts = [text for (text,) in conn.execute("SELECT text FROM reviews")]
        complaints = list(conn.execute("SELECT state, outcome, amount_fen FROM complaints"))
    assert states == ["approved", "approved"] and replies == ["approved"]
    assert not any("cj_massage88" in text for text in texts)
    assert complaints == [("resolved", "partial_refund", 3_000)]
