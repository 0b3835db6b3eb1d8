"""The contact and abuse screener: what it catches, what it leaves alone, its inputs (decision 0036)."""

from __future__ import annotations

import pytest

from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import PREFIXES, check_id
from massage_core.domain.screening import DEFAULT_WORDS, Finding, FindingKind, Screener

PHONE, CONTACT, EMAIL, LINK, SENSITIVE = (FindingKind.PHONE, FindingKind.CONTACT_ID, FindingKind.EMAIL,
                                          FindingKind.LINK, FindingKind.SENSITIVE)
SCREENER = Screener.default()
ULID_WITH_A_MOBILE = "01JD13812345678ABCDEFGHJMN"  # 26 base32 characters holding 11 mobile-shaped digits


def found(text: str) -> list[tuple[FindingKind, str]]:
    screening = SCREENER.screen(text)
    for finding in screening.findings:
        assert finding.matched == text[finding.start:finding.end]
    return [(finding.kind, finding.matched) for finding in screening.findings]


def spans(text: str) -> list[tuple[FindingKind, int, int]]:
    return [(finding.kind, finding.start, finding.end) for finding in SCREENER.screen(text).findings]


@pytest.mark.parametrize(("text", "matched"), [
    ("13812345678", "13812345678"),
    ("我的电话是13812345678，随时联系", "13812345678"),
    ("138 1234 5678", "138 1234 5678"),
    ("138-1234-5678", "138-1234-5678"),
    ("138.1234.5678", "138.1234.5678"),
    ("138—1234—5678", "138—1234—5678"),
    ("138_1234_5678", "138_1234_5678"),
    ("138/1234/5678", "138/1234/5678"),
    ("138·1234·5678", "138·1234·5678"),
    ("138 - 1234 - 5678", "138 - 1234 - 5678"),
    ("1 3 8 1 2 3 4 5 6 7 8", "1 3 8 1 2 3 4 5 6 7 8"),
    ("(138)1234-5678 找我", "138)1234-5678"),
    ("【138】【1234】【5678】", "138】【1234】【5678"),
    ("138\u200b1234\u200b5678", "138\u200b1234\u200b5678"),
    ("１３８１２３４５６７８", "１３８１２３４５６７８"),
    ("１３８　１２３４　５６７８", "１３８　１２３４　５６７８"),
    ("电话一三八一二三四五六七八", "一三八一二三四五六七八"),
    ("幺三八 幺两三四 五六七八", "幺三八 幺两三四 五六七八"),
    ("壹叁捌壹贰叁肆伍陆柒捌", "壹叁捌壹贰叁肆伍陆柒捌"),
    ("1三8 12三4 伍678", "1三8 12三4 伍678"),
    ("一九九〇〇〇〇零零零零", "一九九〇〇〇〇零零零零"),
    ("+86 138 1234 5678", "+86 138 1234 5678"),
    ("+8613812345678", "+8613812345678"),
    ("＋８６－１３８－１２３４－５６７８", "＋８６－１３８－１２３４－５６７８"),
    ("0086-138-1234-5678", "0086-138-1234-5678"),
    ("86 13812345678", "86 13812345678"),
    ("1️⃣3️⃣8️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣ 打我", "1️⃣3️⃣8️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣"),
    ("v 13812345678", "13812345678"),
    ("QQ 13812345678", "13812345678"),
    ("010-62345678", "010-62345678"),
    ("(021)62345678", "021)62345678"),
    ("0755 8612 3456", "0755 8612 3456"),
    ("075586123456", "075586123456"),
])
def test_phone_numbers_in_many_spellings(text: str, matched: str) -> None:
    start = text.index(matched)
    assert spans(text) == [(PHONE, start, start + len(matched))]


def test_two_phone_numbers_in_one_text_are_two_findings() -> None:
    assert found("电话:13812345678,13987654321 或 138 1234 5678 139 8765 4321") == [
        (PHONE, "13812345678"), (PHONE, "13987654321"), (PHONE, "138 1234 5678"), (PHONE, "139 8765 4321")]


@pytest.mark.parametrize(("text", "matched"), [
    ("微信：zhang_san88", "zhang_san88"),
    ("加我微信 wxid_abc123", "wxid_abc123"),
    ("VX：abc12345", "abc12345"),
    ("vx abc-123456", "abc-123456"),
    ("wx:Lily_2020 谢谢", "Lily_2020"),
    ("wechat: lily2020", "lily2020"),
    ("威信 abcdefg", "abcdefg"),
    ("薇信号是 massagefan", "massagefan"),
    ("v信:hello123", "hello123"),
    ("V: lily_2020", "lily_2020"),
    ("卫星 abc888", "abc888"),
    ("加我 tom_9527", "tom_9527"),
    ("ＶＸ：ＡＢＣ１２３４５", "ＡＢＣ１２３４５"),
    ("QQ 12345678", "12345678"),
    ("qq号码：1234567890", "1234567890"),
    ("扣扣：1234 5678", "1234 5678"),
    ("企鹅号 88888", "88888"),
    ("qq:一二三四五六", "一二三四五六"),
    ("微信 12345678", "12345678"),
])
def test_contact_ids_after_a_cue(text: str, matched: str) -> None:
    start = text.index(matched)
    assert spans(text) == [(CONTACT, start, start + len(matched))]


@pytest.mark.parametrize(("text", "kind", "matched"), [
    ("发到 zhang.san@qq.com 吧", EMAIL, "zhang.san@qq.com"),
    ("LILY_88@163.COM", EMAIL, "LILY_88@163.COM"),
    ("abc＠qq．com", EMAIL, "abc＠qq．com"),
    ("邮箱 abc@qq点com", EMAIL, "abc@qq点com"),
    ("看 http://example.com/x?y=1。", LINK, "http://example.com/x?y=1"),
    ("https://t.cn/AbC", LINK, "https://t.cn/AbC"),
    ("上 www.example.org 看看", LINK, "www.example.org"),
    ("ＷＷＷ．ＥＸＡＭＰＬＥ．ＣＯＭ", LINK, "ＷＷＷ．ＥＸＡＭＰＬＥ．ＣＯＭ"),
    ("example.com", LINK, "example.com"),
    ("去 shop.xyz/p/1 下单", LINK, "shop.xyz/p/1"),
    ("massage.top", LINK, "massage.top"),
    ("百度 baidu点com", LINK, "baidu点com"),
    ("abc dot com", LINK, "abc dot com"),
    ("mysite。cn", LINK, "mysite。cn"),
])
def test_emails_and_links(text: str, kind: FindingKind, matched: str) -> None:
    start = text.index(matched)
    assert spans(text) == [(kind, start, start + len(matched))]


@pytest.mark.parametrize(("text", "matched"), [
    ("你个傻逼", "傻逼"),
    ("你个傻 逼", "傻 逼"),
    ("傻*逼", "傻*逼"),
    ("傻.逼！", "傻.逼"),
    ("傻　 逼", "傻　 逼"),
    ("FuCk you", "FuCk"),
    ("ｆｕｃｋ", "ｆｕｃｋ"),
    ("f u c k", "f u c k"),
    ("f.u.c.k!", "f.u.c.k"),
    ("有没有大 保 健", "大 保 健"),
    ("可以提供特殊服务吗", "特殊服务"),
    ("我们私下交易吧", "私下交易"),
])
def test_sensitive_words_across_case_width_and_inserted_marks(text: str, matched: str) -> None:
    start = text.index(matched)
    assert spans(text) == [(SENSITIVE, start, start + len(matched))]


@pytest.mark.parametrize("text", [
    "¥198", "￥198.00", "198元", "2人", "19:30", "2026-11-25", "2026-11-25 19:30", "2026/11/25 13:00",
    "11月25日19点30分", "90分钟", "5星", "好评5星", "评分4.5", "13:30-15:00", "1号楼2单元301室", "早上9点 晚上10点",
    "3个人 2小时 共598元", "168 198 298 58元", "套餐 ¥168 198 298 58", "12345678901", "1381234567", "138123456789",
    "20261125138123456789", "房间 1302", "发票号 12345678", "电话已经打过了", "加我好友", "微信支付很方便",
    "QQ音乐", "wx", "打分10分", "第一次体验，一二三都很好", "稍微有点重", "vip服务", "v1.0", "e.g. No.1",
    "it's hit", "this hit the spot", "Great service.Top team, good job.Me too", "去死皮很舒服", "废物利用",
    "scunthorpe", "shitake mushrooms", "她手法很好，力度刚好，下次还约",
    f"订单 ord_{ULID_WITH_A_MOBILE} 已完成", f"退款单 ord_{ULID_WITH_A_MOBILE}-r1", f"ORD_{ULID_WITH_A_MOBILE}",
    "price 3.14 and 2.5", "上门 2 小时，两个人",
])
def test_ordinary_text_is_clean(text: str) -> None:
    screening = SCREENER.screen(text)
    assert screening.clean and screening.findings == () and screening.masked() == text


def test_platform_ids_never_look_like_phones() -> None:
    printed = [f"{prefix}_{number:026d}" for prefix in PREFIXES.values() for number in (13812345678, 8613812345678)]
    assert all(check_id(kind, raw) for kind, raw in zip(PREFIXES, printed[::2], strict=True))
    assert SCREENER.screen(" ".join(printed)).clean and SCREENER.screen("，".join(printed)).clean
    assert spans(f"ord_{ULID_WITH_A_MOBILE[:-1]}") == [(PHONE, 8, 19)]  # 25 characters: not an id


def test_masking_replaces_findings_one_for_one_and_merges_overlaps() -> None:
    text = "电话13812345678@163.com，傻逼"
    screening = SCREENER.screen(text)
    assert [(finding.kind, finding.start, finding.end) for finding in screening.findings] == [
        (PHONE, 2, 13), (EMAIL, 2, 21), (SENSITIVE, 22, 24)]
    assert screening.masked() == "电话" + "*" * 19 + "，**"
    assert screening.masked("#") == "电话" + "#" * 19 + "，##"
    assert not screening.clean


def test_nested_findings_of_a_weaker_kind_are_dropped() -> None:
    assert found("http://www.example.com/13812345678") == [
        (LINK, "http://www.example.com/13812345678"), (PHONE, "13812345678")]
    assert found("zhang@mail.qq.com") == [(EMAIL, "zhang@mail.qq.com")]
    assert found("微信 wx_13812345678") == [(CONTACT, "wx_13812345678"), (PHONE, "13812345678")]


@pytest.mark.parametrize("mask", ["", "**", 1, None])
def test_the_mask_is_one_character(mask: object) -> None:
    with pytest.raises(ValidationError) as caught:
        SCREENER.screen("13812345678").masked(mask)  # type: ignore[arg-type]
    assert caught.value.code == "screening.mask"


@pytest.mark.parametrize("text", [None, 42, b"13812345678", ["a"]])
def test_only_text_is_screened(text: object) -> None:
    with pytest.raises(ValidationError) as caught:
        SCREENER.screen(text)  # type: ignore[arg-type]
    assert caught.value.code == "screening.text"


@pytest.mark.parametrize("words", [[""], ["   "], ["***"], [42], ["傻逼", None], ["x" * 33], "傻逼", b"ab", None, 5])
def test_bad_word_lists_are_refused(words: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Screener.with_words(words)  # type: ignore[arg-type]
    assert caught.value.code == "screening.words"


def test_word_lists_are_configurable_and_kept_canonical() -> None:
    custom = Screener.with_words([" 按摩棒 ", "ＡＢＣ", "abc"])
    assert custom.words == frozenset({"按摩棒", "abc"})
    assert [finding.kind for finding in custom.screen("按 摩 棒 abc 傻逼 13812345678").findings] == [
        SENSITIVE, SENSITIVE, PHONE]
    assert Screener.with_words([]).screen("傻逼 大保健").clean
    assert Screener.default().words == DEFAULT_WORDS and Screener.default() == Screener.with_words(DEFAULT_WORDS)
    assert Screener.with_words(["x" * 32]).screen("x" * 32).findings == (Finding(SENSITIVE, 0, 32, "x" * 32),)


def test_latin_words_stand_on_their_own_and_are_spread_evenly() -> None:
    assert found("fucking") == [] and found("f uck") == [] and found("(fuck)") == [(SENSITIVE, "fuck")]
    assert found("傻b") == [(SENSITIVE, "傻b")] and found("傻bi") == []


def test_letters_far_apart_are_not_a_word() -> None:
    assert found("傻    逼") == [] and found("傻   逼") == [(SENSITIVE, "傻   逼")]
    assert found("138     1234 5678") == []
