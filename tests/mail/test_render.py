"""Templates: MJML compiled once with Jinja protected, errors at their line, the sandbox."""

import pytest

from campaigns.mail import render
from campaigns.mail.htmltext import html_to_text
from campaigns.mail.mjml_lint import first_failing_line, lint

BODY = """<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>
          <p>Hi {{ first_name | fallback("there") }},</p>
          {% if company %}<p>How is {{ company }}?</p>{% endif %}
          <a href="{{ unsubscribe_url }}">Unsubscribe</a>
        </mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""
PERSON = {"first_name": "Ada", "company": "R&D <Labs>", "unsubscribe_url": "https://x/u?a=1&b=2"}


def rendered(body=BODY, subject="Hello {{ first_name }}", text="", **person):
    templates = render.build_templates(subject, render.compile_mjml(body, text))
    return render.render(templates, {**PERSON, **person})


def test_jinja_survives_mjml_and_values_are_escaped_in_the_html():
    html = rendered().html
    assert "<p>Hi Ada,</p>" in html
    assert "<p>How is R&amp;D &lt;Labs&gt;?</p>" in html
    assert 'href="https://x/u?a=1&amp;b=2"' in html
    assert "{{" not in html and "{%" not in html


def test_the_text_part_is_generated_from_the_html_and_keeps_links():
    text = rendered().text
    assert text.startswith("Hi Ada,\r\n\r\nHow is R&D <Labs>?\r\n\r\nUnsubscribe")
    assert "Unsubscribe (https://x/u?a=1&b=2)" in text
    assert rendered(company="").text.startswith("Hi Ada,\r\n\r\nUnsubscribe")


def test_a_written_text_part_replaces_the_generated_one():
    assert rendered(text="Plain {{ first_name }}\n").text == "Plain Ada\r\n"


def test_fallback_fills_a_missing_first_name():
    assert "<p>Hi there,</p>" in rendered(first_name="").html
    assert rendered(subject="{{ nickname | fallback('friend') }}").subject == "friend"


def test_unknown_variables_render_empty_and_are_reported():
    templates = render.build_templates("{{ nickname }}!", render.compile_mjml(BODY))
    assert render.render(templates, PERSON).subject == "!"
    assert render.unknown_variables(templates) == ["nickname"]


@pytest.mark.parametrize("source, line, message", [
    (BODY.replace("</mj-column>\n", "", 1), 4,
     "MJML: <mj-column> is not closed before </mj-section> on line 10"),
    (BODY.replace("<mj-section>", "<mj-sektion>"), 3, "MJML: unknown MJML tag <mj-sektion>"),
    (BODY.replace("{% endif %}", ""), 8, "Jinja: Unexpected end of template."),
    (BODY.replace("{{ company }}", "{{ company }"), 7, "Jinja: unexpected '}'"),
    (BODY.replace("<mj-text>", "<mj-text>\n<mj-button>x</mj-button>", 1), 6,
     "MJML: <mj-button> cannot go inside <mj-text>"),
])
def test_errors_are_reported_at_their_line(source, line, message):
    with pytest.raises(render.TemplateError) as caught:
        render.compile_mjml(source)
    problem = caught.value.problems[0]
    assert problem.line == line
    assert problem.message.startswith(message)


def test_a_runtime_error_is_found_at_its_line_in_the_source():
    source = BODY.replace("{{ company }}", "{{ company.missing() }}")
    problems = render.check_runtime(source, "s", "", PERSON)
    assert [(p.part, p.line) for p in problems] == [("body", 7)]


def test_a_jinja_block_around_a_section_shows_it_or_not():
    source = BODY.replace("    <mj-section>", "    {% if vip %}<mj-section>", 1).replace(
        "</mj-section>", "</mj-section>{% endif %}")
    assert "Hi Ada" in rendered(source, vip=True).html
    assert "Hi Ada" not in rendered(source, vip=False).html


def test_text_mjml_cannot_hold_is_an_error_at_its_line():
    source = "<mjml>\n<mj-head>\nstray text\n<mj-title>t</mj-title>\n</mj-head>\n" \
             "<mj-body></mj-body>\n</mjml>\n"
    with pytest.raises(render.TemplateError) as caught:
        render.compile_mjml(source)
    assert caught.value.problems[0].line == 3


def test_mjml_the_linter_misses_is_located_by_compiling_prefixes():
    source = "<mjml>\n<mj-body>\n<mj-text>a</mj-text>\n<mj-button href=>x</mj-button>\n" \
             "</mj-body>\n</mjml>\n"
    assert lint(source) == []
    assert first_failing_line(source) == 4


def test_the_sandbox_keeps_python_internals_out_of_reach():
    source = BODY.replace("{{ company }}", "[{{ company.__class__.__mro__ }}]")
    assert "<p>How is []?</p>" in rendered(source).html
    assert rendered(subject="[{{ range.__call__ }}{{ cycler.__init__.__globals__ }}]"
                    ).subject == "[]"
    assert rendered(subject="[{{ '{0.__class__.__mro__}'.format(company) }}]").subject == "[]"


def test_html_to_text_skips_the_preheader_styles_and_comments():
    html = ("<html><head><style>p{}</style></head><body><div style='display:none'>preview"
            "</div><!--[if mso]>x<![endif]--><p>One</p><ul><li>a</li><li>b</li></ul>"
            "<p><a href='mailto:me@x.org'>me@x.org</a> <img alt='Logo'></p></body></html>")
    assert html_to_text(html) == "One\n\n- a\n- b\n\nme@x.org Logo\n"


def test_a_body_with_crlf_line_breaks_as_browsers_submit_it_compiles(app_ctx):
    from campaigns.core.presets import PRESETS

    body = PRESETS["virtual_coffee"].body().replace("\n", "\r\n")
    assert "Twenty minutes" in render.compile_mjml(body).html
