"""Renders the chat templates of this folder with Python Jinja2 as Hugging Face transformers does,
and prints the expected strings of JinjaChatTemplateTest as Java string literals.

Run: python3 render_reference.py (needs jinja2 >= 3.1)."""
import json
import pathlib

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = pathlib.Path(__file__).parent


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def render(name, **variables):
    return environment().from_string((HERE / name).read_text(encoding="utf-8")).render(**variables)


def java(s):
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def m(role, content):
    return {"role": role, "content": content}


CONVERSATION = [m("system", "You are a helpful assistant"), m("user", "Hello"), m("assistant", "Hi there"),
                m("user", "Who are you"), m("assistant", "   I am an assistant   "), m("user", "Another question")]
NO_SYSTEM = [m("user", "Hello"), m("assistant", "Hi there"), m("user", "Grüße, 世界 😀")]
THINKING = [m("user", "What is 2+2?"), m("assistant", "<think>\nAdd them.\n</think>\n\nIt is 4."),
            m("user", "And 3+3?"), m("assistant", "<think>\nAgain.\n</think>\n\n6")]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Wetter für eine Stadt",
                                             "parameters": {"type": "object", "properties": {
                                                 "city": {"type": "string"}, "days": {"type": "integer"}},
                                                 "required": ["city"]}}}]
LLAMA = dict(bos_token="<s>", eos_token="</s>")
DEEPSEEK = dict(bos_token="<｜begin▁of▁sentence｜>", eos_token="<｜end▁of▁sentence｜>")
QWEN = dict(eos_token="<|im_end|>")
GLM = dict(eos_token="<|endoftext|>")

CASES = [
    ("LLAMA2_CONVERSATION", "llama-2-chat.jinja", dict(messages=CONVERSATION, add_generation_prompt=True, **LLAMA)),
    ("LLAMA2_NO_SYSTEM", "llama-2-chat.jinja", dict(messages=NO_SYSTEM, add_generation_prompt=True, **LLAMA)),
    ("CHATML_CONVERSATION", "chatml.jinja", dict(messages=CONVERSATION, add_generation_prompt=True)),
    ("CHATML_NO_PROMPT", "chatml.jinja", dict(messages=NO_SYSTEM, add_generation_prompt=False)),
    ("QWEN3_CONVERSATION", "qwen3.jinja", dict(messages=CONVERSATION, add_generation_prompt=True, **QWEN)),
    ("QWEN3_THINKING", "qwen3.jinja", dict(messages=THINKING, add_generation_prompt=False, **QWEN)),
    ("QWEN3_NO_THINKING", "qwen3.jinja", dict(messages=NO_SYSTEM, add_generation_prompt=True, enable_thinking=False, **QWEN)),
    ("QWEN3_TOOLS", "qwen3.jinja", dict(messages=CONVERSATION[:2], tools=TOOLS, add_generation_prompt=True, **QWEN)),
    ("GLM46_CONVERSATION", "glm-4.6.jinja", dict(messages=CONVERSATION, add_generation_prompt=True, **GLM)),
    ("GLM46_NO_THINKING", "glm-4.6.jinja", dict(messages=NO_SYSTEM, add_generation_prompt=True, enable_thinking=False, **GLM)),
    ("GLM46_TOOLS", "glm-4.6.jinja", dict(messages=THINKING, tools=TOOLS, add_generation_prompt=True, **GLM)),
    ("GLM47_CONVERSATION", "glm-4.7.jinja", dict(messages=CONVERSATION, add_generation_prompt=True, **GLM)),
    ("GLM47_THINKING", "glm-4.7.jinja", dict(messages=THINKING, add_generation_prompt=True, **GLM)),
    ("GLM47_CLEAR_THINKING_OFF", "glm-4.7.jinja", dict(messages=THINKING, add_generation_prompt=False, clear_thinking=False, **GLM)),
    ("DEEPSEEK_V31_CONVERSATION", "deepseek-v3.1.jinja", dict(messages=CONVERSATION, add_generation_prompt=True, **DEEPSEEK)),
    ("DEEPSEEK_V31_THINKING", "deepseek-v3.1.jinja", dict(messages=THINKING + [m("user", "Bye")], add_generation_prompt=True, thinking=True, **DEEPSEEK)),
    ("DEEPSEEK_R1_CONVERSATION", "deepseek-r1.jinja", dict(messages=[m("system", "A"), m("system", "B")] + NO_SYSTEM, add_generation_prompt=True, **DEEPSEEK)),
    ("DEEPSEEK_R1_THINKING", "deepseek-r1.jinja", dict(messages=THINKING, add_generation_prompt=False, **DEEPSEEK)),
]

for constant, template, variables in CASES:
    print(f"    private static final String {constant} = {java(render(template, **variables))};")
try:
    render("llama-2-chat.jinja", messages=[m("user", "a"), m("user", "b")], add_generation_prompt=True, **LLAMA)
except jinja2.exceptions.TemplateError as e:
    print(f"    // llama-2-chat.jinja with two user turns raises: {e}")

# Cases of JinjaTemplateTest: each template rendered with VARIABLES, printed as a Java table row.
VARIABLES = dict(items=["a", "b", "c"], n=7, x=2.5, d={"k": "v", "z": None}, s="  Héllo wörld  ", e="", u=None)
ENGINE_CASES = [
    "A\n  {% if true %}\n    B\n  {% endif %}\nC\n",
    "{% for i in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}|{% endfor %}",
    "{% for i in items if i != 'b' %}{{ i }}{% else %}none{% endfor %}{% for i in [] %}x{% else %}empty{% endfor %}",
    "{% for i in items %}{% if i == 'b' %}{% continue %}{% endif %}{% if i == 'c' %}{% break %}{% endif %}{{ i }}{% endfor %}",
    "{% set v = 1 %}{% for i in items %}{% set v = i %}{% endfor %}{{ v }}",
    "{% set ns = namespace(v=1) %}{% for i in items %}{% set ns.v = i %}{% endfor %}{{ ns.v }}",
    "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2.5 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.5e-7 }} {{ 10 / 5 }}",
    "{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ [1, 2] + [3] }} {{ (1, 'a') }} {{ {'a': 1, 'b': [true, none]} }}",
    "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ s | trim }}|{{ 'xxhixx'.strip('x') }}|{{ s.split() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}",
    "{{ s.upper() }}|{{ s.lower() }}|{{ 'hello wORLD' | title }}|{{ 'hello wORLD' | capitalize }}|{{ s.startswith('  H') }}{{ s.endswith(('x', '  ')) }}|{{ 'a-b-c'.replace('-', '+', 1) }}|{{ 'abcabc'.find('c') }}",
    "{{ items[0] }}{{ items[-1] }}{{ items[1:] }}{{ items[::-1] }}{{ items[:-1] }}{{ 'héllo'[1:3] }}{{ 'héllo'[::-1] }}{{ items[5] is defined }}",
    "{{ items | length }} {{ 'héllo' | length }} {{ d | length }} {{ items | join('-') }} {{ items | first }} {{ items | last }} {{ items | reverse | list }}",
    "{{ d.k }} {{ d['k'] }} {{ d.missing is defined }} {{ d.z is none }} {{ d.get('k') }} {{ d.get('q', 'dflt') }} {% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
    "{{ 'k' in d }} {{ 'b' in items }} {{ 'ell' in 'hello' }} {{ 'q' not in items }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ none == none }}",
    "{{ u is none }} {{ missing is defined }} {{ missing is undefined }} {{ n is integer }} {{ x is float }} {{ n is number }} {{ s is string }} {{ d is mapping }} {{ items is iterable }} {{ n is even }} {{ n is odd }} {{ n is divisibleby 7 }}",
    "{{ missing | default('D') }} {{ e | default('D') }} {{ e | default('D', true) }} {{ (e or 'fallback') }} {{ (n and 'yes') }} {{ 'a' if n > 5 else 'b' }} {{ 'a' if n > 50 }}|",
    "{{ d | tojson }} {{ items | tojson }} {{ {'b': 1, 'a': [1.5, 'é\"\\n']} | tojson }} {{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }} {{ 'é' | tojson(ensure_ascii=true) }}",
    "{{ {'a': [1, {'b': 2}], 'c': {}} | tojson(indent=2) }}",
    "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(name='C') }}",
    "{% set block %}inner {{ n }}{% endset %}[{{ block }}]{% filter upper %}shout {{ n }}{% endfilter %}",
    "{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(3, 0, -1) | list }} {% for i in range(2) %}{{ i }}{% endfor %}",
    "{{ [{'r': 'u', 'c': 1}, {'r': 'a', 'c': 2}, {'r': 'u', 'c': 3}] | selectattr('r', 'equalto', 'u') | map(attribute='c') | list }} {{ items | map('upper') | join }} {{ [1, 0, 2] | select | list }} {{ [3, 1, 2] | sort | list }}",
    "  {%- if true -%}  \n  x  \n  {%- endif -%}  \n  y {# comment #}\n  {# own line #}\nz {{- ' w ' -}} v",
    "{{ '\\u00e9\\x41\\t' ~ \"q'\" }}{{ 'a' 'b' }}",
    "{{ n | string ~ x | string }} {{ '42' | int + 1 }} {{ 'x' | int }} {{ '2.5' | float }} {{ -n }} {{ n | abs }} {{ [1, 2, 3] | sum }}",
    "{% if n > 5 %}big{% elif n > 2 %}mid{% else %}small{% endif %}{% if e %}E{% elif not e %}notE{% endif %}",
]
print()
for template in ENGINE_CASES:
    print(f"            row({java(template)},\n                    {java(environment().from_string(template).render(**VARIABLES))}),")
