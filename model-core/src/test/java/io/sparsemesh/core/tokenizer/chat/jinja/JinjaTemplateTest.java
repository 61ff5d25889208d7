package io.sparsemesh.core.tokenizer.chat.jinja;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The interpreter against Python Jinja2 3.1.6 in Hugging Face's environment: each row's expected
 * output is what {@code chat-templates/render_reference.py} printed for the template with
 * {@link #VARIABLES}.
 */
class JinjaTemplateTest {

    private record Row(String template, String expected) {
    }

    private static Row row(String template, String expected) {
        return new Row(template, expected);
    }

    private static final Map<String, Object> VARIABLES = variables();

    private static Map<String, Object> variables() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("k", "v");
        d.put("z", null);
        Map<String, Object> variables = new LinkedHashMap<>();
        variables.put("items", List.of("a", "b", "c"));
        variables.put("n", 7);
        variables.put("x", 2.5);
        variables.put("d", d);
        variables.put("s", "  Héllo wörld  ");
        variables.put("e", "");
        variables.put("u", null);
        return variables;
    }

    private static final List<Row> ROWS = List.of(
            row("A\n  {% if true %}\n    B\n  {% endif %}\nC\n",
                    "A\n    B\nC"),
            row("{% for i in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}|{% endfor %}",
                    "10TrueFalse33|21FalseFalse32|32FalseTrue31|"),
            row("{% for i in items if i != 'b' %}{{ i }}{% else %}none{% endfor %}{% for i in [] %}x{% else %}empty{% endfor %}",
                    "acempty"),
            row("{% for i in items %}{% if i == 'b' %}{% continue %}{% endif %}{% if i == 'c' %}{% break %}{% endif %}{{ i }}{% endfor %}",
                    "a"),
            row("{% set v = 1 %}{% for i in items %}{% set v = i %}{% endfor %}{{ v }}",
                    "1"),
            row("{% set ns = namespace(v=1) %}{% for i in items %}{% set ns.v = i %}{% endfor %}{{ ns.v }}",
                    "c"),
            row("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2.5 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.5e-7 }} {{ 10 / 5 }}",
                    "3 -4 1 2 3.5 1024 3.5 0.30000000000000004 1e+20 1.5e-07 2.0"),
            row("{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ [1, 2] + [3] }} {{ (1, 'a') }} {{ {'a': 1, 'b': [true, none]} }}",
                    "a1NoneTrue ababab [1, 2, 3] (1, 'a') {'a': 1, 'b': [True, None]}"),
            row("{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ s | trim }}|{{ 'xxhixx'.strip('x') }}|{{ s.split() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}",
                    "Héllo wörld|Héllo wörld  |  Héllo wörld|Héllo wörld|hi|['Héllo', 'wörld']|['a', 'b', '', 'c']|['a', 'b,c']|['a,b', 'c']"),
            row("{{ s.upper() }}|{{ s.lower() }}|{{ 'hello wORLD' | title }}|{{ 'hello wORLD' | capitalize }}|{{ s.startswith('  H') }}{{ s.endswith(('x', '  ')) }}|{{ 'a-b-c'.replace('-', '+', 1) }}|{{ 'abcabc'.find('c') }}",
                    "  HÉLLO WÖRLD  |  héllo wörld  |Hello World|Hello world|TrueTrue|a+b-c|2"),
            row("{{ items[0] }}{{ items[-1] }}{{ items[1:] }}{{ items[::-1] }}{{ items[:-1] }}{{ 'héllo'[1:3] }}{{ 'héllo'[::-1] }}{{ items[5] is defined }}",
                    "ac['b', 'c']['c', 'b', 'a']['a', 'b']élolléhFalse"),
            row("{{ items | length }} {{ 'héllo' | length }} {{ d | length }} {{ items | join('-') }} {{ items | first }} {{ items | last }} {{ items | reverse | list }}",
                    "3 5 2 a-b-c a c ['c', 'b', 'a']"),
            row("{{ d.k }} {{ d['k'] }} {{ d.missing is defined }} {{ d.z is none }} {{ d.get('k') }} {{ d.get('q', 'dflt') }} {% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
                    "v v False True v dflt k=v;z=None;"),
            row("{{ 'k' in d }} {{ 'b' in items }} {{ 'ell' in 'hello' }} {{ 'q' not in items }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ none == none }}",
                    "True True True True True False True True"),
            row("{{ u is none }} {{ missing is defined }} {{ missing is undefined }} {{ n is integer }} {{ x is float }} {{ n is number }} {{ s is string }} {{ d is mapping }} {{ items is iterable }} {{ n is even }} {{ n is odd }} {{ n is divisibleby 7 }}",
                    "True False True True True True True True True False True True"),
            row("{{ missing | default('D') }} {{ e | default('D') }} {{ e | default('D', true) }} {{ (e or 'fallback') }} {{ (n and 'yes') }} {{ 'a' if n > 5 else 'b' }} {{ 'a' if n > 50 }}|",
                    "D  D fallback yes a |"),
            row("{{ d | tojson }} {{ items | tojson }} {{ {'b': 1, 'a': [1.5, 'é\"\\n']} | tojson }} {{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }} {{ 'é' | tojson(ensure_ascii=true) }}",
                    "{\"k\": \"v\", \"z\": null} [\"a\", \"b\", \"c\"] {\"b\": 1, \"a\": [1.5, \"é\\\"\\n\"]} {\"a\": 2, \"b\": 1} \"\\u00e9\""),
            row("{{ {'a': [1, {'b': 2}], 'c': {}} | tojson(indent=2) }}",
                    "{\n  \"a\": [\n    1,\n    {\n      \"b\": 2\n    }\n  ],\n  \"c\": {}\n}"),
            row("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(name='C') }}",
                    "Hi A! Hi B? Hi C!"),
            row("{% set block %}inner {{ n }}{% endset %}[{{ block }}]{% filter upper %}shout {{ n }}{% endfilter %}",
                    "[inner 7]SHOUT 7"),
            row("{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(3, 0, -1) | list }} {% for i in range(2) %}{{ i }}{% endfor %}",
                    "[0, 1, 2] [1, 3, 5] [3, 2, 1] 01"),
            row("{{ [{'r': 'u', 'c': 1}, {'r': 'a', 'c': 2}, {'r': 'u', 'c': 3}] | selectattr('r', 'equalto', 'u') | map(attribute='c') | list }} {{ items | map('upper') | join }} {{ [1, 0, 2] | select | list }} {{ [3, 1, 2] | sort | list }}",
                    "[1, 3] ABC [1, 2] [1, 2, 3]"),
            row("  {%- if true -%}  \n  x  \n  {%- endif -%}  \n  y {# comment #}\n  {# own line #}\nz {{- ' w ' -}} v",
                    "xy z w v"),
            row("{{ '\\u00e9\\x41\\t' ~ \"q'\" }}{{ 'a' 'b' }}",
                    "éA\tq'ab"),
            row("{{ n | string ~ x | string }} {{ '42' | int + 1 }} {{ 'x' | int }} {{ '2.5' | float }} {{ -n }} {{ n | abs }} {{ [1, 2, 3] | sum }}",
                    "72.5 43 0 2.5 -7 7 6"),
            row("{% if n > 5 %}big{% elif n > 2 %}mid{% else %}small{% endif %}{% if e %}E{% elif not e %}notE{% endif %}",
                    "bignotE")
    );

    @Test
    void rendersAsJinja2() {
        List<org.junit.jupiter.api.function.Executable> checks = new ArrayList<>();
        for (Row row : ROWS) {
            checks.add(() -> assertEquals(row.expected(), JinjaTemplate.parse(row.template()).render(VARIABLES),
                    "template: " + row.template()));
        }
        assertAll(checks);
    }

    @Test
    void attributeOfUndefinedFails() {
        JinjaTemplate template = JinjaTemplate.parse("line 1\n{{ missing.role }}");
        JinjaException e = assertThrows(JinjaException.class, () -> template.render(Map.of()));
        assertTrue(e.getMessage().contains("'missing' is undefined"), e.getMessage());
        assertEquals(2, e.line());
    }

    @Test
    void arithmeticOnUndefinedFails() {
        JinjaTemplate template = JinjaTemplate.parse("{{ 'a' + missing }}");
        assertThrows(JinjaException.class, () -> template.render(Map.of()));
    }

    @Test
    void settingAttributeOfNonNamespaceFails() {
        JinjaTemplate template = JinjaTemplate.parse("{% set d = {} %}{% set d.x = 1 %}");
        JinjaException e = assertThrows(JinjaException.class, () -> template.render(Map.of()));
        assertTrue(e.getMessage().contains("not a namespace"), e.getMessage());
    }

    @Test
    void unsupportedTagsFailWhenParsed() {
        for (String source : List.of("{% include 'x' %}", "{% extends 'x' %}", "{% if x %}", "{{ x ", "{{ x | nope }}",
                "{{ x is nope }}", "{{ 'unclosed }}", "{% for x in y recursive %}{% endfor %}", "{% endif %}")) {
            assertThrows(JinjaException.class, () -> JinjaTemplate.parse(source), source);
        }
    }

    @Test
    void recursiveMacroIsBounded() {
        JinjaTemplate template = JinjaTemplate.parse("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}");
        JinjaException e = assertThrows(JinjaException.class, () -> template.render(Map.of()));
        assertTrue(e.getMessage().contains("nest deeper than"), e.getMessage());
    }

    @Test
    void hugeRangeIsRejected() {
        JinjaTemplate template = JinjaTemplate.parse("{% for i in range(1000000000) %}x{% endfor %}");
        assertThrows(JinjaException.class, () -> template.render(Map.of()));
    }

    @Test
    void inputListsStayUnchanged() {
        List<Object> items = new ArrayList<>(List.of("b", "a"));
        String output = JinjaTemplate.parse("{{ items | sort | join }}{{ items | reverse | join }}{{ items | join }}")
                .render(Map.of("items", items));
        assertEquals("ab" + "ab" + "ba", output);
        assertEquals(List.of("b", "a"), items);
    }
}
