"""The policy library (法规政策库) as packs feed it: a pack may add regulations and articles, never rewrite them.

The library is shared by every org, so a pack whose regulation contradicts what is stored (another number, other
article text) is refused rather than allowed to change what other orgs' alerts cite.
"""

from __future__ import annotations

import re
from typing import Any

from .models import Article, Regulation
from .packs import PackFile

__all__ = ["regulation_problems", "regulation_store"]

_SPACE = re.compile(r"\s+")


def _norm(text: Any) -> str:
    return _SPACE.sub("", str(text or ""))


def regulation_problems(pack: PackFile) -> list[Any]:
    """Where the pack's regulation contradicts the policy library (shared by every org: never rewritten by a pack)."""
    reg = pack.spec.regulation
    if not reg:
        return []
    found = []
    existing = Regulation.objects.filter(title=reg["title"].strip("《》")).first()
    if existing is None:
        return []
    for name, key in (
        ("issuer", "issuer"),
        ("number", "number"),
        ("issued_on", "date"),
        ("effective_on", "effective"),
    ):
        stored, given = getattr(existing, name), reg.get(name)
        if stored and given and _norm(stored) != _norm(given):
            found.append(
                pack.problem(
                    f"pack.regulation.{key}", f"法规库中《{existing.title}》的此项为“{stored}”，与规则包不同"
                )
            )
    stored_articles = {a.number: a.text for a in existing.articles.all()}
    for number, text in reg.get("articles", {}).items():
        if stored_articles.get(number) and text and _norm(stored_articles[number]) != _norm(text):
            found.append(
                pack.problem(
                    f"pack.regulation.articles.{number}",
                    f"条文与法规库中《{existing.title}》{number}不同；法规修订后请以新的名称收录（如注明修订年份）",
                )
            )
    return found


def regulation_store(pack: PackFile) -> tuple[Regulation | None, dict[str, Article]]:
    """Add the pack's regulation and articles to the library (filling blanks only); articles by number."""
    reg = pack.spec.regulation
    if not reg:
        return None, {}
    regulation, _created = Regulation.objects.get_or_create(title=reg["title"].strip("《》"))
    changed = []
    for name, key in (
        ("issuer", "issuer"),
        ("number", "number"),
        ("issued_on", "issued_on"),
        ("effective_on", "effective_on"),
        ("url", "url"),
    ):
        if reg.get(key) and not getattr(regulation, name):
            setattr(regulation, name, reg[key])
            changed.append(name)
    if changed:
        regulation.save(update_fields=changed)
    articles = {}
    for number, text in reg.get("articles", {}).items():
        article, created = Article.objects.get_or_create(
            regulation=regulation, number=number, defaults={"text": text}
        )
        if not created and text and not article.text:
            article.text = text
            article.save(update_fields=["text"])
        articles[number] = article
    return regulation, articles
