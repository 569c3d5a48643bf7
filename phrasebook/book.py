"""The phrasebook: courteous drafts by stage, tone, channel and language, as Jinja2 templates in
YAML files (`phrasebook/phrases/<language>/<stage>.yaml`).

Loading validates everything up front and refuses a bad file with its path, line and reason:
YAML or Jinja2 syntax errors, unknown variables, duplicate keys or variant ids, missing stage /
tone / channel combinations, too few variants. Templates render in Jinja2's immutable sandbox with
strict undefined: a template can read the facts it is given and nothing else.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

BUILT_IN = Path(__file__).parent / "phrases"
STAGES = ("pre_due", "due_today", "first_reminder", "repeat_reminder", "broken_promise", "final_warning",
          "legal_handover", "thank_you", "dispute")
TONES = ("warm", "neutral", "firm", "formal")
CHANNELS = ("call", "message", "letter")
STAGE_SHAPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {"dispute": (("neutral",), ("message", "letter"))}
"""Stages written in fewer tones and channels than the rest: (tones, channels). A disputed invoice
asks for no payment, so its drafts do not climb in tone; its call is the manager's, not scripted."""


def shape_of(stage: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return STAGE_SHAPES.get(stage, (TONES, CHANNELS))


def fitted(stage: str, tone: str, channel: str) -> tuple[str, str]:
    """The tone and channel a stage is written in closest to those asked for (a dispute: neutral; a
    call becomes a message)."""
    tones, channels = shape_of(stage)
    return (tone if tone in tones else tones[0]), (channel if channel in channels else channels[0])
LETTER_PARTS = ("subject", "greeting", "body", "closing")
VARIABLES = frozenset({
    "customer", "contact_name", "first_name", "dear", "hello", "yours", "invoice_number", "amount", "paid", "balance",
    "partially_paid", "balance_note", "paid_note", "currency", "due_date", "days_overdue", "days_overdue_text", "days_until_due",
    "days_until_due_text", "due_in", "deadline", "promised_date", "our_company", "sender_name", "me", "signature",
    "payment_details", "contract", "pretrial_days", "claim_days", "late_interest", "late_fee_date", "suspension_date",
})
MIN_VARIANTS = {"en": 3}
DEFAULT_MIN_VARIANTS = 2
REQUIRED_LANGUAGES = ("en", "ru", "nb", "bg")
SAMPLE_FACTS: dict[str, Any] = {
    "customer": "Acme Trading Ltd", "contact_name": "Ms Berg", "first_name": "Anna", "dear": "Dear Ms Berg,", "yours": "Yours sincerely,",
    "hello": "Hello Anna,", "invoice_number": "INV-1042", "amount": "€1,200.50", "paid": "€500.00", "balance": "€700.50",
    "partially_paid": True,
    "balance_note": "Of the €1,200.50 invoiced, we have received €500.00 (thank you); €700.50 remains outstanding.",
    "paid_note": "We have received €500.00 of the €1,200.50 invoiced, thank you.",
    "currency": "EUR", "due_date": "December 1, 2026", "days_overdue": 5, "days_overdue_text": "5 days",
    "days_until_due": 0, "days_until_due_text": "0 days", "due_in": "in 3 days", "deadline": "December 8, 2026",
    "promised_date": "December 3, 2026", "our_company": "Nordlys AS", "sender_name": "Carol Collector",
    "me": "Carol Collector from Nordlys AS", "signature": "Carol Collector\nCredit Controller\nNordlys AS",
    "payment_details": "IBAN NO93 8601 1117 947", "contract": "No. 12/2026 of 1 March 2026", "pretrial_days": 30, "claim_days": 16,
    "late_interest": "statutory interest", "late_fee_date": "December 15, 2026", "suspension_date": "December 29, 2026",
}
SAMPLE_BARE_FACTS: dict[str, Any] = {**SAMPLE_FACTS, "contact_name": None, "first_name": None, "dear": "Dear Sir or Madam,",
                                     "yours": "Yours faithfully,",
                                     "hello": "Hello,", "partially_paid": False, "paid": None, "balance_note": None, "paid_note": None,
                                     "balance": "€1,200.50", "deadline": None, "promised_date": None, "payment_details": None,
                                     "our_company": None, "sender_name": None, "me": "your supplier", "signature": None,
                                     "contract": None, "late_fee_date": None, "suspension_date": None}
"""Every variant is rendered with these at load, with and without the optional values, so a
template that breaks (or prints "None") is refused before anyone needs it."""

YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's C parser when PyYAML was built with it (the wheels are): ~10 times faster."""
CHECKED_CACHE_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
"""The checks live in this file: changing it invalidates every cached result."""

ENVIRONMENT = ImmutableSandboxedEnvironment(undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=True,
                                            keep_trailing_newline=False, autoescape=False)
"""No `trim_blocks`: it swallowed the newline after a line ending in `{% endif %}` and glued the
payment details to the signature. A line whose condition is false renders empty and `tidy` drops it."""


@dataclass(frozen=True)
class Variant:
    id: str
    parts: tuple[tuple[str, str], ...]
    """(part name, template source): `text` for calls and messages; subject, greeting, body and
    closing for letters."""
    source: str
    """file:line, for error messages and /phrasebook."""


@dataclass(frozen=True)
class Rendered:
    variant: str
    text: str
    subject: str | None = None


class PhrasebookError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Phrasebook:
    entries: dict[tuple[str, str, str, str], list[Variant]] = field(default_factory=dict)
    """(language, stage, tone, channel) → its variants, in file order."""

    @property
    def languages(self) -> list[str]:
        return sorted({language for language, *_ in self.entries})

    def variants(self, language: str, stage: str, tone: str, channel: str) -> list[Variant]:
        tone, channel = fitted(stage, tone, channel)
        return self.entries.get((language, stage, tone, channel), [])

    def counts(self) -> dict[str, dict[str, int]]:
        """Per language: stages, tones, channels present and the number of variants."""
        summary: dict[str, dict[str, int]] = {}
        for (language, _stage, _tone, _channel), variants in self.entries.items():
            row = summary.setdefault(language, {"variants": 0})
            row["variants"] += len(variants)
        for language in summary:
            keys = [key for key in self.entries if key[0] == language]
            summary[language].update(stages=len({k[1] for k in keys}), tones=len({k[2] for k in keys}),
                                     channels=len({k[3] for k in keys}))
        return summary

    def render(self, variant: Variant, facts: Mapping[str, Any]) -> Rendered:
        parts = {name: compiled(source).render(**facts).strip() for name, source in variant.parts}
        if "text" in parts:
            return Rendered(variant.id, tidy(parts["text"]))
        body = "\n\n".join(tidy(parts.get("body", "")).splitlines())
        text = "\n\n".join(part for part in (tidy(parts.get("greeting", "")), body, tidy(parts.get("closing", ""))) if part)
        return Rendered(variant.id, text, tidy(parts["subject"]))


@lru_cache(maxsize=8192)
def compiled(source: str) -> Template:
    return ENVIRONMENT.template_class.from_code(ENVIRONMENT, ENVIRONMENT.compile(parsed(source)), ENVIRONMENT.make_globals(None), None)


@lru_cache(maxsize=8192)
def parsed(source: str) -> nodes.Template:
    """Parsed once for both the variable check and compiling."""
    return ENVIRONMENT.parse(source)


NAMELESS_SENDER = {"en": "your supplier", "nb": "leverandøren din", "ru": "ваш поставщик", "bg": "Вашият доставчик"}
"""Who speaks in a draft when the sender gave no name and the team no company ("This is your supplier")."""
NAMELESS_SENDER_STARTING_A_SENTENCE = re.compile(
    r"(^|[.!?]\s+)(" + "|".join(re.escape(words) for words in NAMELESS_SENDER.values() if words[0].islower()) + ")", re.MULTILINE)
"""The same words opening a sentence ("Good afternoon. {{ me }}.") take a capital: "Your supplier.", "Ваш поставщик."."""
ABBREVIATION_STOP = re.compile(r"(?<=\w\.)\.(?!\.)")
"""A sentence that ends in an abbreviation (Russian and Bulgarian dates end in "г.", lev in "лв.")
takes no second full stop: "до 14 декабря 2026 г." — never "г.."."""
ORDINARY_SPACES = re.compile(r"[ \t]+")
"""Only ordinary spaces are collapsed: the no-break spaces Babel puts inside amounts and dates stay."""
SPACE_BEFORE_PUNCTUATION = re.compile(r"[ \t]+([,.;:!?])")


def tidy(text: str) -> str:
    """Lines whose optional parts were empty, doubled spaces, a space left before punctuation and a
    full stop doubled by an abbreviation at the end of a sentence: take them out; a nameless sender
    opening a sentence takes its capital."""
    lines = [ORDINARY_SPACES.sub(" ", line).strip() for line in text.strip().splitlines()]
    kept = "\n".join(line for line in lines if line)
    kept = NAMELESS_SENDER_STARTING_A_SENTENCE.sub(lambda match: match.group(1) + match.group(2)[0].upper() + match.group(2)[1:], kept)
    return ABBREVIATION_STOP.sub("", SPACE_BEFORE_PUNCTUATION.sub(r"\1", kept)).strip()


# -- loading -------------------------------------------------------------------------------------

def load_phrasebook(extra_dir: Path | None = None, *, required: Iterable[str] = ("en",), rehearse: bool = True) -> Phrasebook:
    """The built-in phrases plus those under `extra_dir` (same layout; a file there replaces the
    built-in file of the same language and stage). Every language present must be complete, as
    must the `required` ones. With `rehearse`, every variant is also rendered with sample facts
    (the check and reload do this; start-up skips it to be ready at once, and a draft that fails
    to render then falls back to a plain note). Raises PhrasebookError listing every problem."""
    files: dict[tuple[str, str], Path] = {}
    roots = [BUILT_IN] + ([extra_dir] if extra_dir else [])
    for root in roots:
        if not root.is_dir():
            raise PhrasebookError([f"{root}: the phrasebook folder does not exist"])
        for path in sorted(root.glob("*/*.yaml")):
            files[(path.parent.name, path.stem)] = path
    signature = tuple((key, str(path), path.stat().st_mtime_ns, path.stat().st_size) for key, path in sorted(files.items()))
    return load_files(signature, tuple(required), rehearse)


@lru_cache(maxsize=8)
def load_files(signature: tuple[tuple[tuple[str, str], str, int, int], ...], required: tuple[str, ...],
               rehearse: bool) -> Phrasebook:
    """Parsing and checking every template takes a while: files unchanged since the last load
    (same paths, times and sizes) give the same phrasebook."""
    files = {key: Path(path) for key, path, _, _ in signature}
    book = Phrasebook()
    problems: list[str] = []
    for (language, stage), path in sorted(files.items()):
        problems.extend(load_file(book, path, language, stage, rehearse))
    problems.extend(coverage_problems(book, required))
    if problems:
        raise PhrasebookError(problems)
    return book


def load_file(book: Phrasebook, path: Path, language: str, stage: str, rehearse: bool = True) -> list[str]:
    """Reads one phrase file into `book`; its problems. A file checked before (same path, same
    bytes, same checks) is taken from the checked-file cache instead of parsed again."""
    content = path.read_bytes()
    key = checked_file_key(path, content, language, stage, rehearse)
    cached = read_checked(key)
    if cached is None:
        scratch = Phrasebook()
        problems = check_file(scratch, path, content.decode("utf-8"), language, stage, rehearse)
        cached = CheckedFile(scratch.entries, problems)
        write_checked(key, cached)
    for entry, variants in cached.entries.items():
        book.entries.setdefault(entry, []).extend(variants)
    return list(cached.problems)


def check_file(book: Phrasebook, path: Path, text: str, language: str, stage: str, rehearse: bool) -> list[str]:
    try:
        root = yaml.compose(text, Loader=YAML_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        return [f"{path}:{line}: not valid YAML: {getattr(error, 'problem', error)}"]
    problems: list[str] = []
    if not isinstance(root, yaml.MappingNode):
        return [f"{path}:1: a phrase file is a mapping with stage, language and tones"]
    top = mapping(root, path, problems)
    if stage not in STAGES:
        problems.append(f"{path}:1: unknown stage {stage!r} (the file name); stages: {', '.join(STAGES)}")
    for key, expected in (("stage", stage), ("language", language)):
        node = top.get(key)
        if node is None or scalar(node) != expected:
            line = node.start_mark.line + 1 if node is not None else 1
            problems.append(f"{path}:{line}: {key} must be {expected!r} (from the file's place: <language>/<stage>.yaml)")
    tones = top.get("tones")
    if not isinstance(tones, yaml.MappingNode):
        return problems + [f"{path}:1: 'tones' must map each tone ({', '.join(TONES)}) to its channels"]
    seen_ids: dict[str, int] = {}
    for tone, channels_node in mapping(tones, path, problems).items():
        where = f"{path}:{channels_node.start_mark.line + 1}"
        if tone not in TONES:
            problems.append(f"{where}: unknown tone {tone!r}; tones: {', '.join(TONES)}")
            continue
        if not isinstance(channels_node, yaml.MappingNode):
            problems.append(f"{where}: tone {tone} must map channels ({', '.join(CHANNELS)}) to lists of variants")
            continue
        for channel, variants_node in mapping(channels_node, path, problems).items():
            where = f"{path}:{variants_node.start_mark.line + 1}"
            if channel not in CHANNELS:
                problems.append(f"{where}: unknown channel {channel!r}; channels: {', '.join(CHANNELS)}")
                continue
            if not isinstance(variants_node, yaml.SequenceNode):
                problems.append(f"{where}: {tone}/{channel} must be a list of variants")
                continue
            for item in variants_node.value:
                variant = read_variant(item, path, channel, problems)
                if variant is None:
                    continue
                line = item.start_mark.line + 1
                if variant.id in seen_ids:
                    problems.append(f"{path}:{line}: duplicate variant id {variant.id!r} (first on line {seen_ids[variant.id]})")
                    continue
                seen_ids[variant.id] = line
                if rehearse:
                    problems.extend(render_problems(book, variant))
                book.entries.setdefault((language, stage, tone, channel), []).append(variant)
    return problems


# -- the checked-file cache ---------------------------------------------------------------------

@dataclass(frozen=True)
class CheckedFile:
    entries: dict[tuple[str, str, str, str], list[Variant]]
    problems: list[str]


def cache_dir() -> Path:
    """COLLECTBOT_CACHE_DIR, else $XDG_CACHE_HOME/collectbot, else ~/.cache/collectbot."""
    if folder := os.environ.get("COLLECTBOT_CACHE_DIR"):
        return Path(folder)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "collectbot"


def checked_file_key(path: Path, content: bytes, language: str, stage: str, rehearse: bool) -> str:
    """A file's identity for the cache: its bytes' hash, where it is (problems name the path) and
    which checks ran."""
    digest = hashlib.sha256(content)
    digest.update(f"\0{path.resolve()}\0{language}\0{stage}\0{rehearse}\0{CHECKED_CACHE_VERSION}".encode())
    return digest.hexdigest()


def read_checked(key: str) -> CheckedFile | None:
    """The cached result (JSON, never code), or None when absent or unreadable."""
    try:
        data = json.loads((cache_dir() / "phrasebook" / f"{key}.json").read_text(encoding="utf-8"))
        entries = {tuple(item["entry"]): [Variant(v["id"], tuple((part, source) for part, source in v["parts"]), v["source"])
                                           for v in item["variants"]] for item in data["entries"]}
        return CheckedFile(entries, [str(problem) for problem in data["problems"]])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_checked(key: str, checked: CheckedFile) -> None:
    """Best effort: a read-only or missing cache folder only makes the next start slower."""
    folder = cache_dir() / "phrasebook"
    data = {"entries": [{"entry": list(entry), "variants": [{"id": v.id, "parts": [list(p) for p in v.parts], "source": v.source}
                                                            for v in variants]}
                        for entry, variants in checked.entries.items()],
            "problems": checked.problems}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{key}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, folder / f"{key}.json")
    except OSError:
        pass


def mapping(node: yaml.MappingNode, path: Path, problems: list[str]) -> dict[str, yaml.Node]:
    """A mapping node's items by key, reporting duplicate keys (YAML loaders silently keep the last)."""
    items: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = scalar(key_node)
        if key in items:
            problems.append(f"{path}:{key_node.start_mark.line + 1}: duplicate key {key!r} "
                            f"(first on line {items[key].start_mark.line + 1})")
            continue
        items[key] = value_node
    return items


def scalar(node: yaml.Node) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else ""


def read_variant(node: yaml.Node, path: Path, channel: str, problems: list[str]) -> Variant | None:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        problems.append(f"{path}:{line}: a variant is a mapping with an id and its text")
        return None
    fields = mapping(node, path, problems)
    variant_id = scalar(fields.get("id", yaml.ScalarNode("tag:yaml.org,2002:str", "")))
    if not variant_id:
        problems.append(f"{path}:{line}: the variant has no id")
        return None
    wanted = LETTER_PARTS if channel == "letter" else ("text",)
    unknown = sorted(set(fields) - set(wanted) - {"id"})
    if unknown:
        problems.append(f"{path}:{line}: variant {variant_id!r} has unknown field(s) {', '.join(unknown)}; "
                        f"a {channel} has {', '.join(wanted)}")
    parts = []
    for part in wanted:
        part_node = fields.get(part)
        if part_node is None or not scalar(part_node).strip():
            problems.append(f"{path}:{line}: variant {variant_id!r} is missing its {part}")
            continue
        source = scalar(part_node)
        problems.extend(template_problems(source, f"{path}:{part_node.start_mark.line + 1}", variant_id, part))
        parts.append((part, source))
    return Variant(variant_id, tuple(parts), f"{path}:{line}")


def template_problems(source: str, where: str, variant_id: str, part: str) -> list[str]:
    try:
        tree = parsed(source)
    except TemplateSyntaxError as error:
        return [f"{where}: variant {variant_id!r} {part}: template error on its line {error.lineno}: {error.message}"]
    unknown = sorted(meta.find_undeclared_variables(tree) - VARIABLES)
    if unknown:
        return [f"{where}: variant {variant_id!r} {part} uses unknown variable(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(VARIABLES))}"]
    return []


def render_problems(book: Phrasebook, variant: Variant) -> list[str]:
    problems = []
    for label, facts in (("with every value", SAMPLE_FACTS), ("without the optional values", SAMPLE_BARE_FACTS)):
        try:
            rendered = book.render(variant, facts)
        except Exception as error:
            return [f"{variant.source}: variant {variant.id!r} fails to render {label}: {error}"]
        if "None" in f"{rendered.subject or ''} {rendered.text}":
            problems.append(f"{variant.source}: variant {variant.id!r} prints 'None' {label}; guard the optional value")
    return problems


def coverage_problems(book: Phrasebook, languages: Iterable[str]) -> list[str]:
    problems: list[str] = []
    counts: dict[str, int] = defaultdict(int)
    for language in sorted(set(languages) | set(book.languages)):
        minimum = MIN_VARIANTS.get(language, DEFAULT_MIN_VARIANTS)
        for stage in STAGES:
            tones, channels = shape_of(stage)
            for tone in tones:
                for channel in channels:
                    have = len(book.variants(language, stage, tone, channel))
                    counts[language] += have
                    if have < minimum:
                        problems.append(f"{BUILT_IN / language / (stage + '.yaml')}: {language} {stage}/{tone}/{channel} has "
                                        f"{have} variant(s); at least {minimum} are needed")
    return problems
