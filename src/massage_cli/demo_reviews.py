"""The reviews chapter of ``massage demo``: a double-blind review and a reply, a review that gives away a
WeChat id and is masked by a moderator, a complaint answered and mediated with a partial refund through the
ledger, and the quality ranking of the city.

Rerunnable: every run reviews and complains about the orders its own orders chapter just served.
"""

from __future__ import annotations

from collections.abc import Callable

from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor


def reviews_story(platform: Platform, customer: Actor, therapist: Actor, admin: Actor, served: str, grabbed: str,
                  service: str, say: Callable[[str, str], None]) -> None:
    """Li Na reviews both visits, complains about the second; Chen Jing answers; the platform mediates."""
    reviews = platform.reviews
    first = reviews.submit(customer, served, attitude=5, skill=5, pressure=4, text="手法专业，力度刚好，准时到达。",
                           tags=("professional", "punctual"))
    hidden = not _sees(platform, therapist, first.id)
    reviews.rate_customer(therapist, served, 5, "客户很友善，家里安静")
    shown = reviews.get(therapist, first.id)
    say("review", f"Li Na reviews her visit ({first.attitude}/{first.skill}/{first.pressure}, {first.state.value}); "
        f"Chen Jing cannot read it {'yet' if hidden else '(!)'} -- double-blind -- until she rates Li Na privately; "
        f"now visible: {shown.visible}")
    replied = reviews.reply(therapist, first.id, "谢谢您的认可，期待下次为您服务！")
    say("review", f"Chen Jing replies once, publicly (reply {replied.reply.state.value if replied.reply else '?'})")

    for step in (platform.orders.depart, platform.orders.arrive, platform.orders.start, platform.orders.finish):
        step(therapist, grabbed)
    platform.orders.complete(customer, grabbed)
    leaky = reviews.submit(customer, grabbed, attitude=4, skill=4, pressure=3,
                           text="不错，想直接约可以加她微信 cj_massage88")
    queued = [r.id for r in reviews.queue(admin)]
    masked = reviews.mask(admin, leaky.id)
    say("moderation", f"her second review gives away a WeChat id: the screener finds {', '.join(leaky.findings)} "
        f"-> {leaky.state.value}, in the queue ({leaky.id in queued}); a moderator masks it: "
        f"'{masked.text}' ({masked.state.value})")

    complaints = platform.complaints
    filed = complaints.file(customer, grabbed, "punctuality", "技师迟到了20分钟，服务时间也少了一些。")
    complaints.respond(therapist, filed.id, "路上堵车，已提前电话告知，抱歉。")
    paid = platform.orders.get(customer, grabbed).paid
    resolved = complaints.resolve(admin, filed.id, "partial_refund", "迟到属实，退还部分费用", amount=3_000)
    steps = " -> ".join(s.to_state.value for s in resolved.timeline)
    say("complaint", f"Li Na complains the second visit started late; Chen Jing answers; support mediates: {steps}; "
        f"{resolved.outcome.value if resolved.outcome else '?'} {resolved.amount} of {paid}, refunded through the "
        f"order and posted once in the ledger")

    rating = reviews.rating(admin, _id(therapist))
    page = platform.quality.ranking(admin, "shanghai", service, limit=3)
    top = "; ".join(f"#{e.position} {'Chen Jing' if e.therapist_id == _id(therapist) else 'an earlier therapist'} "
                    f"{e.score.score:.2f}" for e in page.entries)
    plain = f"{rating.plain:.2f}" if rating.plain is not None else "-"
    say("ranking", f"Chen Jing's Bayesian rating {rating.overall:.2f} ({rating.count} public review(s) averaging "
        f"{plain}, pulled towards the prior); the Shanghai ranking for this service (rating, acceptance, "
        f"reliability, punctuality, safety, complaints): {top}")


def _id(actor: Actor) -> str:
    assert actor.account_id is not None
    return actor.account_id


def _sees(platform: Platform, therapist: Actor, review: str) -> bool:
    """Whether the therapist may read the review at all yet (hidden reviews look missing to her)."""
    return any(r.id == review for r in platform.reviews.about_me(therapist))
