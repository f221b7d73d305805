"""Personalisation: MJML compiled once per campaign, Jinja rendered per person in a sandbox.

MJML does not know Jinja, so before compiling, every Jinja tag is swapped for an inert
placeholder and put back afterwards: the compiler never rewrites a person's template code,
and the output is one Jinja template per part (HTML autoescaped, text and subject not).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment
from mjml import mjml2html

from campaigns.errors import ValidationError
from campaigns.mail import mjml_lint
from campaigns.mail.htmltext import html_to_text, tidy_text

# Names every template can use; anything else is reported as a warning in the editor.
PERSON_FIELDS = ("first_name", "last_name", "name", "email", "company", "fields",
                 "unsubscribe_url", "sender_name", "sender_email")
_JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_PLACEHOLDER = "cmpjinja{}x"
_PLACEHOLDER_RE = re.compile(r"cmpjinja(\d+)x")
# System fonts: MJML's default pulls a web font from Google, which we never want to load.
_FONTS: dict[str, str] = {}


@dataclass(frozen=True)
class Problem:
    """One error in a template, with the line it is on when known."""

    part: str  # "subject", "body" or "text"
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{self.part.capitalize()}, {where}{self.message}"


class TemplateError(ValidationError):
    """The campaign's templates do not compile."""

    code = "template_error"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems), problems=problems)
        self.problems = problems


@dataclass(frozen=True)
class CompiledBody:
    """The Jinja sources of the HTML and text parts, compiled from MJML once."""

    html: str
    text: str
    generated_text: bool = True


@dataclass
class Rendered:
    """One person's subject, HTML and text."""

    subject: str
    html: str
    text: str


@dataclass
class Templates:
    """The three compiled Jinja templates of a campaign."""

    subject: Template
    html: Template
    text: Template
    variables: set[str] = field(default_factory=set)
    tidy_text: bool = False  # the text part was generated from the HTML: tidy it once rendered


def fallback(value: Any, default: str = "") -> Any:
    """Jinja filter: the value, or the default when it is empty or undefined."""
    if value is None or isinstance(value, ChainableUndefined) or value == "":
        return default
    return value


@lru_cache(maxsize=2)
def environment(autoescape: bool) -> SandboxedEnvironment:
    """Return the sandboxed Jinja environment for HTML (autoescaped) or for text."""
    env = SandboxedEnvironment(autoescape=autoescape, undefined=ChainableUndefined,
                               newline_sequence="\r\n", keep_trailing_newline=True)
    env.filters["fallback"] = fallback
    return env


def compile_mjml(source: str, body_text: str = "") -> CompiledBody:
    """Compile MJML to the HTML Jinja template; derive the text part unless one is given."""
    # Browsers submit textareas with CRLF line breaks; mjml-python rejects a CR in the markup.
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    _check_syntax("body", source, autoescape=True)
    protected, tags = _protect(source)
    mistakes = mjml_lint.lint(protected)
    if mistakes:
        raise TemplateError([Problem("body", f"MJML: {text}", line) for line, text in mistakes])
    try:
        html = mjml2html(protected, fonts=_FONTS)
    except ValueError as exc:
        raise TemplateError(mjml_lint.locate(protected, str(exc))) from exc
    _require_all_tags(source, html, tags)
    text = body_text if body_text.strip() else _restore(html_to_text(html), tags)
    return CompiledBody(_restore(html, tags), text, generated_text=not body_text.strip())


def generated_text(source: str) -> str:
    """Return the text part MJML's HTML gives (what an empty text field sends)."""
    return compile_mjml(source).text


def build_templates(subject: str, compiled: CompiledBody) -> Templates:
    """Compile the Jinja templates of a campaign (once per campaign per process)."""
    _check_syntax("subject", subject, autoescape=False)
    _check_syntax("text", compiled.text, autoescape=False)
    html_env, text_env = environment(True), environment(False)
    variables = set()
    for env, src in ((text_env, subject), (html_env, compiled.html), (text_env, compiled.text)):
        variables |= meta.find_undeclared_variables(env.parse(src))
    return Templates(subject=text_env.from_string(subject),
                     html=html_env.from_string(compiled.html),
                     text=text_env.from_string(compiled.text), variables=variables,
                     # only Jinja blocks leave stray blank lines and spaces in generated text
                     tidy_text=compiled.generated_text and "{%" in compiled.text)


def render(templates: Templates, context: dict[str, Any]) -> Rendered:
    """Render one person's message; raise TemplateError with the failing line."""
    text = _render_part("text", templates.text, context)
    return Rendered(subject=_render_part("subject", templates.subject, context),
                    html=_render_part("body", templates.html, context),
                    text=tidy_text(text) if templates.tidy_text else text)


def check_runtime(source: str, subject: str, body_text: str, context: dict[str, Any]
                  ) -> list[Problem]:
    """Render the sources as written for one person, to find runtime errors at their line."""
    problems = []
    for part, src, autoescape in (("subject", subject, False), ("body", source, True),
                                  ("text", body_text, False)):
        if not src:
            continue
        try:
            _render_part(part, environment(autoescape).from_string(src), context)
        except TemplateError as exc:
            problems += exc.problems
        except TemplateSyntaxError:
            continue  # reported by the compile step with its line
    return problems


def unknown_variables(templates: Templates) -> list[str]:
    """Return the names a template uses that no person has."""
    return sorted(templates.variables - set(PERSON_FIELDS))


def _check_syntax(part: str, source: str, *, autoescape: bool) -> None:
    """Raise TemplateError at the line of a Jinja syntax error."""
    try:
        environment(autoescape).parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateError([Problem(part, f"Jinja: {exc.message}", exc.lineno)]) from exc


def _render_part(part: str, template: Template, context: dict[str, Any]) -> str:
    """Render a template, turning any failure into a Problem at its template line."""
    try:
        return template.render(context)
    except Exception as exc:  # noqa: BLE001 - a user's template can fail in any way
        raise TemplateError([Problem(part, f"Jinja: {exc}", _template_line(exc))]) from exc


def _template_line(exc: BaseException) -> int | None:
    """Return the template line an exception was raised at (Jinja rewrites tracebacks)."""
    line = None
    tb = exc.__traceback__ or sys.exc_info()[2]
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _protect(source: str) -> tuple[str, list[tuple[str, int]]]:
    """Swap every Jinja tag for a placeholder MJML leaves alone; return the tags and lines."""
    tags: list[tuple[str, int]] = []

    def swap(match: re.Match[str]) -> str:
        tag = match.group(0)
        tags.append((tag, source.count("\n", 0, match.start()) + 1))
        # Keep the line count, so MJML errors found in the protected source match the editor.
        return _PLACEHOLDER.format(len(tags) - 1) + "\n" * tag.count("\n")

    return _JINJA_TAG.sub(swap, source), tags


def _restore(text: str, tags: list[tuple[str, int]]) -> str:
    """Put the Jinja tags back in place of their placeholders."""
    return _PLACEHOLDER_RE.sub(lambda m: tags[int(m.group(1))][0], text)


def _require_all_tags(source: str, html: str, tags: list[tuple[str, int]]) -> None:
    """Fail when MJML dropped a Jinja tag (tags between sections are not text MJML keeps)."""
    kept = {int(n) for n in _PLACEHOLDER_RE.findall(html)}
    lost = [Problem("body", f"MJML drops {tag!r} here: put Jinja tags inside text or "
                            "attribute values (for example inside <mj-text>)", line)
            for n, (tag, line) in enumerate(tags) if n not in kept]
    if lost:
        raise TemplateError(lost)
