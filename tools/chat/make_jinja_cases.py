#!/usr/bin/env python3
"""Writes tests/chat/data/jinja_cases.json: small templates rendered by the jinja2 environment transformers builds
for chat templates (transformers.utils.chat_template_utils._compile_jinja_template), as unit goldens for
qinfer's interpreter.

    /opt/hfvenv/bin/python tools/chat/make_jinja_cases.py

Each case is {"template", "expected"} or {"template", "error": {"type", "message"}}; all share the context
{"ctx": ...} below. Cases in QINFER_REFUSES render in jinja2 but qinfer deliberately refuses them (the Python
output depends on object addresses or identity): they are recorded with "qinfer_error": true.
"""
import json
import os
import sys

import jinja2
import transformers
from transformers.utils.chat_template_utils import _compile_jinja_template

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "chat", "data", "jinja_cases.json")

CONTEXT = {
    "s": "Hello World",
    "u": "héllo wörld ß ǅ",
    "uni": "日本語🎉",
    "n": 7,
    "f": 2.5,
    "neg": -3,
    "t": True,
    "fl": False,
    "nil": None,
    "l": [3, 1, 2],
    "e": [],
    "d": {"b": 1, "a": 2, "items": "shadowed"},
    "nested": {"x": {"y": [10, 20, {"z": "deep"}]}},
    "words": ["b", "A", "a", "C"],
    "objs": [{"name": "x", "v": 2}, {"name": "y", "v": 1}, {"name": "z"}],
    "emptystr": "",
    "big": 1e20,
    "msgs": [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "<think>\nr\n</think>\n\nyo", "tool_calls": [
            {"function": {"name": "f", "arguments": {"a": 1, "b": [1, 2], "c": "x"}}}]},
        {"role": "tool", "content": "ok"},
    ],
}

T = []  # templates


def add(*templates):
    T.extend(templates)


# ---- output, literals, printing like Python's str()
add("plain text", "{{ 'a' }}{{ \"b\" }}", "{{ 1 }} {{ -1 }} {{ 1.0 }} {{ 1.5 }} {{ 0.1 + 0.2 }} {{ 1e3 }} {{ 1E-3 }}",
    "{{ 1e16 }} {{ 1e15 }} {{ 123456789.123 }} {{ 0.0001 }} {{ 0.00001 }} {{ -0.0 }} {{ 2.5e-7 }} {{ big }}",
    "{{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1_0.5 }}",
    "{{ true }} {{ True }} {{ false }} {{ none }} {{ None }} {{ nil }} {{ t }} {{ fl }}",
    "{{ [1, 'a', none, true, 1.0] }} {{ (1,) }} {{ (1, 2) }} {{ () }} {{ [] }} {{ {} }}",
    "{{ {'a': 1, 'b': [1, {'c': none}]} }} {{ d }} {{ nested }}",
    "{{ \"it's\" }} {{ ['it\\'s', 'say \"hi\"', 'both \\' \"', 'back\\\\slash', 'tab\\there', 'nl\\n'] }}",
    "{{ ['é', '日本', '🎉', '\\x00', '\\x7f', '\\xa0', '\\u2028', '\\x85', '\\u200b'] }}",
    "{{ 'a' 'b' \"c\" }}", "{{ '\\u00e9\\x41\\101\\d\\N' }}", "{{ 'a\\\nb' }}", "{{ \"\\'\" }}",
    "{{ undefined_thing }}|{{ undefined_thing is defined }}", "{{ 'a', 'b' }}", "{{ ('a', 1) }}",
    "{{ s }} {{ u }} {{ uni }} {{ n }} {{ f }} {{ neg }}")

# ---- arithmetic and operators
add("{{ 1 + 2 }} {{ 1 + 2.0 }} {{ 'a' + 'b' }} {{ [1] + [2] }} {{ (1,) + (2,) }}",
    "{{ 7 - 10 }} {{ 2 * 3 }} {{ 2 * 1.5 }} {{ 'ab' * 3 }} {{ 3 * 'x' }} {{ [0] * 3 }} {{ 'x' * 0 }} {{ 'x' * -1 }}",
    "{{ 7 / 2 }} {{ 6 / 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 // -2 }} {{ 7.5 // 2 }} {{ -7.5 // 2 }}",
    "{{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 7.5 % 2 }} {{ -7.5 % 2 }} {{ 5 % 1.5 }}",
    "{{ 2 ** 10 }} {{ 2 ** -1 }} {{ 2.0 ** 3 }} {{ -2 ** 2 }} {{ 2 ** 3 ** 2 }} {{ (-8) ** (1/3) if false else 1 }}",
    "{{ -n }} {{ +n }} {{ -f }} {{ - - n }} {{ not n }} {{ not 0 }} {{ not '' }} {{ not [] }} {{ not nil }}",
    "{{ true + true }} {{ true * 3 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' == 'a' }} {{ [1, 2] == [1, 2] }} {{ (1,) == [1] }}",
    "{{ 1 != 2 }} {{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 2 }} {{ 2 >= 3 }} {{ 'a' < 'b' }} {{ 'B' < 'a' }} {{ 'é' > 'z' }}",
    "{{ [1, 2] < [1, 3] }} {{ [1, 2] < [1, 2, 0] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 < 2.5 }}",
    "{{ 'a' ~ 1 ~ none ~ true ~ 1.0 ~ undefined_thing ~ [1] }}", "{{ 1 ~ 2 + 3 }} {{ (1 ~ 2) + '3' }}",
    "{{ 1 and 2 }} {{ 0 and 2 }} {{ 0 or 'x' }} {{ '' or [] }} {{ none or 0 }} {{ 1 or undefined_thing.x }}",
    "{{ 1 if true else 2 }} {{ 1 if false else 2 }} {{ 'x' if false }}|{{ 'a' if n > 5 else 'b' if n > 3 else 'c' }}",
    "{{ 'ell' in s }} {{ 'z' in s }} {{ 1 in l }} {{ 5 not in l }} {{ 'a' in d }} {{ 'zz' in d }} {{ 'x' in undefined_thing }}",
    "{{ 1 in [1.0] }} {{ [1] in [[1], 2] }} {{ '' in 'abc' }}",
    "{{ n + 1 * 2 }} {{ (n + 1) * 2 }} {{ n - 1 - 1 }} {{ 2 * 3 % 4 }} {{ 10 / 4 * 2 }} {{ not 1 == 2 }} {{ -3|abs }}",
    "{{ l|length - 1 }} {{ l|length * 2 }} {{ -l|length if false else 0 }}")

# ---- subscripts, attributes, slicing
add("{{ l[0] }} {{ l[-1] }} {{ l[5] }}|{{ l['x'] }}|{{ s[0] }} {{ s[-1] }} {{ u[1] }} {{ uni[3] }}",
    "{{ d.a }} {{ d['b'] }} {{ d.zz }}|{{ d['zz'] }}|{{ d['items'] }}", "{{ d.items }}",
    "{{ nested.x.y[2].z }} {{ nested['x']['y'][0] }} {{ nested.x.y.1 }} {{ l.0 }} {{ s.1 }}",
    "{{ l[1:] }} {{ l[:2] }} {{ l[::2] }} {{ l[::-1] }} {{ l[-2:] }} {{ l[5:] }} {{ l[1:1] }} {{ l[::-2] }} {{ l[-1:0:-1] }}",
    "{{ s[1:4] }} {{ s[::-1] }} {{ u[::-1] }} {{ uni[1:3] }} {{ s[-3:] }} {{ s[:100] }} {{ s[3:1] }}",
    "{{ msgs[::-1][0].role }} {{ msgs[1:][0].content }} {{ (l + [9])[1:] }}",
    "{{ nil.x }}|{{ nil['x'] }}|{{ n.x }}|{{ d.a.b }}|{{ s.x }}|{{ l.x }}",
    "{{ undefined_thing.x }}", "{{ d.zz.y }}", "{{ undefined_thing[0] }}", "{{ l[1:2:0] }}", "{{ d[1:2] }}|", "{{ n[1:] }}", "{{ nil[:1] }}", "{{ l['a':] }}", "{{ l[nil:] }}",
    "{{ msgs[2].tool_calls[0].function.arguments.b[1] }}", "{{ l[true] }} {{ l[false] }}", "{{ l[1.0] }}|")

# ---- string methods
add("{{ s.lower() }} {{ s.upper() }} {{ u.upper() }} {{ u.lower() }} {{ u.title() }} {{ u.capitalize() }} {{ s.swapcase() }}",
    "{{ s.startswith('Hell') }} {{ s.startswith(('x', 'He')) }} {{ s.endswith('ld') }} {{ s.startswith('World', 6) }} {{ s.endswith('Hello', 0, 5) }}",
    "{{ '  a b  '.strip() }}|{{ '  a b  '.lstrip() }}|{{ '  a b  '.rstrip() }}|{{ 'xxaxx'.strip('x') }}|{{ '\\n\\na\\n'.strip('\\n') }}|{{ '\\u3000a\\xa0'.strip() }}|",
    "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(none, 1) }} {{ 'a,b,c'.split(',', 1) }} {{ 'abc'.split('x') }} {{ ''.split() }} {{ ''.split(',') }}",
    "{{ 'a,b,c'.rsplit(',', 1) }} {{ ' a b c '.rsplit(none, 1) }} {{ 'a\\nb\\r\\nc\\rd'.splitlines() }} {{ 'a\\nb\\n'.splitlines(true) }}",
    "{{ s.replace('l', 'L') }} {{ s.replace('l', 'L', 2) }} {{ 'abc'.replace('', '-') }} {{ 'aaa'.replace('a', '') }}",
    "{{ s.find('o') }} {{ s.find('o', 5) }} {{ s.rfind('o') }} {{ s.find('z') }} {{ u.find('w') }} {{ s.count('l') }} {{ s.index('W') }} {{ ''.count('') }}",
    "{{ ', '.join(['a', 'b']) }} {{ ''.join(s) }} {{ '-'.join(d) }}",
    "{{ 'abc'.isalpha() }} {{ '123'.isdigit() }} {{ 'a1'.isalnum() }} {{ ' \\t'.isspace() }} {{ 'abc'.islower() }} {{ 'ABC'.isupper() }} {{ ''.isalpha() }} {{ 'é'.isalpha() }} {{ '٣'.isdecimal() }}",
    "{{ 'x'.center(5) }}|{{ 'x'.center(6, '*') }}|{{ 'ab'.ljust(4) }}|{{ 'ab'.rjust(4, '0') }}|{{ '-5'.zfill(4) }}|",
    "{{ 'a=b=c'.partition('=') }} {{ 'a=b=c'.rpartition('=') }} {{ 'abc'.partition('x') }}",
    "{{ 'prefix-x'.removeprefix('prefix-') }} {{ 'x.txt'.removesuffix('.txt') }} {{ '{} and {}'.format(1, 'b') }} {{ '{0}{0}{name}'.format('a', name='n') }}",
    "{{ ('x'|safe).upper() }}", "{{ 'x'.encode() }}", "{{ s.nosuchmethod }}|{{ s.nosuchmethod is defined }}",
    "{{ 'abc'.join(1) }}", "{{ 'a b'.split('') }}")

# ---- dict / list methods and sandbox
add("{{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }} {{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 5) }}",
    "{{ d.keys() }} {{ d.values() }} {{ d.items() }}", "{{ l.count(1) }} {{ l.index(2) }} {{ l.copy() }} {{ d.copy() }}",
    "{{ l.append(4) }}", "{{ l.append is defined }}|{{ l.append }}|", "{{ d.update({}) }}", "{{ d.pop('a') }}",
    "{% set ns = namespace(items=[]) %}{{ ns.items.append(1) }}", "{{ l.index(9) }}", "{{ d.fromkeys(['a']) }}")

# ---- filters
add("{{ s|length }} {{ u|length }} {{ uni|length }} {{ l|length }} {{ d|length }} {{ undefined_thing|length }} {{ s|count }}",
    "{{ '  x  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ n|trim }}|{{ undefined_thing|trim }}|",
    "{{ s|lower }} {{ s|upper }} {{ u|upper }} {{ s|capitalize }} {{ 'hELLO wOrld-x (y) [z] <w> {v}'|title }} {{ u|title }}",
    "{{ d|tojson }} {{ nested|tojson }} {{ l|tojson }} {{ s|tojson }} {{ uni|tojson }} {{ 1.0|tojson }} {{ big|tojson }} {{ nil|tojson }} {{ t|tojson }}",
    "{{ d|tojson(indent=2) }}", "{{ nested|tojson(indent=0) }}", "{{ d|tojson(indent='\\t') }}", "{{ d|tojson(2) }}",
    "{{ [[], {}, [1]]|tojson(indent=2) }}", "{{ d|tojson(separators=(',', ':')) }}", "{{ d|tojson(sort_keys=true) }}",
    "{{ {'é': 'ü\\n\\t\"\\\\\\x01\\x7f\\u2028🎉'}|tojson }}", "{{ {'é': 'ü\\x7f🎉'}|tojson(ensure_ascii=true) }}",
    "{{ {1: 'a', none: 'b', 1.5: 'c', true: 'd', false: 'e'}|tojson }}", "{{ (1, 2)|tojson }}", "{{ undefined_thing|tojson }}",
    "{{ msgs[2].tool_calls[0].function.arguments|tojson }}", "{{ [0.1, -0.0, 1e-7, 12345678901234567890.0]|tojson }}",
    "{{ n|string }} {{ l|string }} {{ nil|string }} {{ (s|string)|length }} {{ undefined_thing|string }}|",
    "{{ nil|default('d') }} {{ undefined_thing|default('d') }} {{ ''|default('d') }} {{ ''|default('d', true) }} {{ undefined_thing|d }}|{{ 0|d(5, boolean=true) }}",
    "{{ l|join(',') }} {{ l|join }} {{ objs|join(', ', attribute='name') }} {{ s|join('.') }} {{ [1, none, 'x']|join('|') }}",
    "{{ l|first }} {{ l|last }} {{ s|first }} {{ s|last }} {{ e|first }}|{{ d|first }} {{ d|last }} {{ e|last }}|",
    "{{ s|list }} {{ d|list }} {{ l|list }} {{ undefined_thing|list }} {{ d|items|list }} {{ undefined_thing|items|list }}",
    "{% for k, v in d|items %}{{ k }}={{ v }};{% endfor %}", "{{ l|items }}",
    "{{ s|replace('o', '0') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ n|replace('7', 'seven') }}",
    "{{ '42'|int }} {{ '3.7'|int }} {{ 'x'|int }} {{ 'x'|int(5) }} {{ 3.9|int }} {{ -3.9|int }} {{ true|int }} {{ nil|int }} {{ ' 12 '|int }} {{ '1_000'|int }} {{ '0x1f'|int(0, 16) }} {{ '0x1f'|int(base=16) }} {{ '0b11'|int(base=0) }} {{ '012'|int(base=0) }}",
    "{{ '1.5'|float }} {{ 'x'|float }} {{ 'x'|float(1.0) }} {{ 2|float }} {{ ' 1e3 '|float }} {{ 'inf'|float }} {{ '-nan'|float }} {{ '1_0.5'|float }} {{ nil|float }}",
    "{{ -3|abs }} {{ (-3)|abs }} {{ neg|abs }} {{ -2.5|abs }} {{ true|abs }}",
    "{{ 2.567|round(2) }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 7|round }} {{ 1234|round(-2) }} {{ 1250|round(-2) }} {{ 2.1|round(method='ceil') }} {{ 2.9|round(0, 'floor') }} {{ 2.123|round(1, 'ceil') }}",
    "{{ l|sort }} {{ l|sort(reverse=true) }} {{ words|sort }} {{ words|sort(case_sensitive=true) }} {{ objs[:2]|sort(attribute='v')|map(attribute='name')|list }}",
    "{{ [1, 2, 2, 1, 3]|unique|list }} {{ ['a', 'A', 'b']|unique|list }} {{ ['a', 'A', 'b']|unique(case_sensitive=true)|list }}",
    "{{ objs|map(attribute='name')|list }} {{ objs|map(attribute='v')|list }} {{ objs|map(attribute='v', default=0)|list }} {{ words|map('upper')|list }} {{ l|map('string')|join('-') }}",
    "{{ l|select('odd')|list }} {{ l|reject('odd')|list }} {{ [0, 1, '', 'x', none]|select|list }} {{ objs|selectattr('v')|list }} {{ objs|rejectattr('v')|list }} {{ objs|selectattr('v', 'equalto', 1)|list }} {{ l|select('greaterthan', 1)|list }}",
    "{{ l|sum }} {{ objs[:2]|sum(attribute='v') }} {{ [[1], [2]]|sum(start=[]) }} {{ l|max }} {{ l|min }} {{ words|max }} {{ words|min(case_sensitive=true) }} {{ e|max }}|",
    "{{ l|reverse|list }} {{ s|reverse }} {{ d|reverse|list }}", "{{ l|reverse }}", "{{ l|map('upper') }}",
    "{{ d|dictsort }} {{ d|dictsort(reverse=true) }} {{ {'b': 2, 'A': 3, 'a': 1}|dictsort(by='value') }}",
    "{{ s|safe }} {{ '<b>'|e }} {{ '<a href=\"x\">&\\''|escape }} {{ ('<b>'|safe)|e }} {{ '<a>' + ('<b>'|safe) }} {{ ('<b>'|safe) + '<a>' }} {{ ('<b>'|safe) ~ '<a>' }}",
    "{{ '<b>'|safe is escaped }} {{ '<b>' is escaped }} {{ ('<b>'|safe)|length }} {{ ('x'|safe)|tojson }}",
    "{{ 'line1\\nline2\\n\\nline4'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent('> ', blank=true) }}|",
    "{{ 'one two three four five six'|truncate(12) }}|{{ 'one two three four five six'|truncate(12, true) }}|{{ 'short'|truncate(12) }}|{{ 'one two three four'|truncate(9, leeway=0) }}",
    "{{ 'hello world, it is me'|wordcount }} {{ '%s-%d'|format('a', 3) }} {{ '%(x)s'|format(x=1) }} {{ 'x'|center(5) }}|",
    "{{ d|attr('items') is defined }} {{ d|attr('a') is defined }} {{ s|attr('upper') is defined }}",
    "{{ l|batch(2)|list }}", "{{ s|nosuchfilter }}", "{{ l|map('nosuchfilter')|list }}",
    "{{ s|wordwrap(5) }}", "{{ [1, 'a']|sort }}", "{{ 'abc'|items }}")

# ---- tests
add("{{ n is defined }} {{ undefined_thing is defined }} {{ undefined_thing is undefined }} {{ nil is none }} {{ n is none }} {{ d.zz is defined }} {{ d.a is defined }}",
    "{{ n is number }} {{ f is number }} {{ t is number }} {{ s is number }} {{ n is integer }} {{ t is integer }} {{ f is float }} {{ n is float }}",
    "{{ t is boolean }} {{ 1 is boolean }} {{ t is true }} {{ 1 is true }} {{ fl is false }} {{ 0 is false }}",
    "{{ s is string }} {{ n is string }} {{ d is mapping }} {{ l is mapping }} {{ d is iterable }} {{ s is iterable }} {{ n is iterable }} {{ undefined_thing is iterable }} {{ nil is iterable }}",
    "{{ l is sequence }} {{ s is sequence }} {{ d is sequence }} {{ n is sequence }} {{ undefined_thing is sequence }} {{ (1,) is sequence }} {{ (l|map('string')) is sequence }} {{ (l|map('string')) is iterable }}",
    "{{ n is odd }} {{ n is even }} {{ n is divisibleby 7 }} {{ n is divisibleby(2) }} {{ 2.0 is even }}",
    "{{ 1 is eq 1 }} {{ 1 is equalto 2 }} {{ 1 is == 1.0 }} {{ 1 is ne 2 }} {{ 1 is lt 2 }} {{ 2 is le 2 }} {{ 3 is gt 2 }} {{ 3 is ge 4 }} {{ 1 is greaterthan 0 }} {{ 1 is lessthan 0 }}",
    "{{ 1 is in l }} {{ 'a' is in s }} {{ s is lower }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 'A1' is upper }}",
    "{{ d.get is callable }} {{ n is callable }} {{ range is callable }} {{ nil is sameas none }} {{ t is sameas true }} {{ l is sameas l }}",
    "{{ 'upper' is filter }} {{ 'nope' is filter }} {{ 'odd' is test }} {{ n is not none }} {{ not n is none }} {{ n is not odd }}",
    "{{ 1 if nil is none else 2 }} {{ n is defined and n > 3 }}", "{{ n is nosuchtest }}", "{{ undefined_thing is odd }}",
    "{{ 1000 is sameas 1000 }}")

# ---- statements: if / for / loop
add("{% if n > 5 %}big{% elif n > 3 %}mid{% else %}small{% endif %}",
    "{% if nil %}a{% elif 0 %}b{% endif %}|", "{% if l %}nonempty{% endif %}{% if e %}x{% else %}empty{% endif %}",
    "{% for x in l %}{{ x }}{% endfor %}", "{% for x in e %}{{ x }}{% else %}none{% endfor %}",
    "{% for x in l if x > 1 %}{{ loop.index }}/{{ loop.length }}:{{ x }} {% endfor %}",
    "{% for x in l %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.depth }}{{ loop.depth0 }};{% endfor %}",
    "{% for x in l %}{{ loop.previtem }},{{ loop.nextitem }};{% endfor %}",
    "{% for x in l %}{{ loop.previtem is defined }}{{ loop.nextitem is defined }} {% endfor %}",
    "{% for x in l %}{{ loop.cycle('a', 'b') }}{% endfor %}", "{% for x in [1, 1, 2, 2, 1] %}{{ loop.changed(x) }} {% endfor %}",
    "{% for x in l %}{{ loop }}{% endfor %}", "{{ loop }}|",
    "{% for x in d %}{{ x }},{% endfor %}", "{% for c in u %}{{ c }}.{% endfor %}", "{% for x in undefined_thing %}x{% else %}e{% endfor %}",
    "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", "{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}",
    "{% for a, b in ['xy', 'zw'] %}{{ b }}{{ a }}{% endfor %}", "{% for (a, b) in [(1, 2)] %}{{ a }}{{ b }}{% endfor %}",
    "{% for x in l %}{% for y in [1, 2] %}{{ loop.index }}{% endfor %}{{ loop.index }}|{% endfor %}",
    "{% for x in l %}{% set outer = loop %}{% for y in [1] %}{{ outer.index }}{% endfor %}{% endfor %}",
    "{% for x in [1, 2, 3, 4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}",
    "{% for x in l %}{% break %}{% else %}else{% endfor %}done", "{% for x in nil %}{% endfor %}", "{% for a, b in [1] %}{% endfor %}",
    "{% for a, b in [[1, 2, 3]] %}{% endfor %}", "{% for i in range(3) %}{{ i }}{% endfor %} {{ range(1, 10, 3)|list }} {{ range(5, 0, -2)|list }} {{ range(3) }} {{ range(0) }}",
    "{% for x in msgs[::-1] %}{{ x.role[0] }}{% endfor %}", "{% for m in msgs if m.role != 'system' %}{{ m.role }} {% endfor %}",
    "{% for x in l %}{% if loop.first %}[{% endif %}{{ x }}{% if not loop.last %}, {% else %}]{% endif %}{% endfor %}")

# ---- set, scoping, namespace, with
add("{% set x = 1 %}{{ x }}", "{% set x, y = 1, 2 %}{{ x }}{{ y }}", "{% set x = (1, 2) %}{{ x }}", "{% set a, b = 'xy' %}{{ b }}{{ a }}",
    "{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = 5 %}{{ x }}{% endfor %}{{ x }}",
    "{% for i in [1, 2] %}{% set y = i %}{% endfor %}{{ y }}|", "{% if true %}{% set y = 3 %}{% endif %}{{ y }}",
    "{% set x = 1 %}{% for i in [1, 2] %}{% if i == 2 %}{{ x }}{% endif %}{% set x = 5 %}{% endfor %}",
    "{% set ns = namespace(a=1, b='x') %}{{ ns.a }}{{ ns.b }}{{ ns.c }}|{% set ns.c = 3 %}{{ ns.c }}{% for i in l %}{% set ns.a = ns.a + i %}{% endfor %}{{ ns.a }}",
    "{% set ns = namespace(d) %}{{ ns.a }}{{ ns.b }}", "{% set ns = namespace(d, a=9) %}{{ ns.a }}", "{% set ns = namespace() %}{{ ns }}",
    "{% set ns = namespace(x=[1]) %}{{ ns }}", "{% set d2 = {} %}{% set d2.x = 1 %}", "{% set n.x = 1 %}",
    "{% set x %}a{{ n }}b{% endset %}{{ x }}|{{ x is string }}", "{% set x | upper | replace('A', '4') %}ab{% endset %}{{ x }}",
    "{% set x %}  {% for i in l %}{{ i }}{% endfor %}  {% endset %}[{{ x }}]",
    "{% with a = 1, b = n %}{{ a }}{{ b }}{% endwith %}{{ a }}|", "{% with %}{% set q = 1 %}{{ q }}{% endwith %}{{ q }}|",
    "{% filter upper %}abc {{ s }}{% endfilter %}", "{% filter replace('a', 'b')|upper %}aaa{% endfilter %}",
    "{% set x = 1 %}{% set x = x + 1 %}{{ x }}", "{% set l2 = l + [4] %}{{ l2 }} {{ l }}",
    "{% set s = 'shadow' %}{{ s }}", "{% set true = 1 %}")

# ---- macros and call
add("{% macro m(a, b=2) %}{{ a }}-{{ b }}{% endmacro %}{{ m(1) }}|{{ m(1, 3) }}|{{ m(b=5, a=0) }}|{{ m() }}|",
    "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(c=1) }}",
    "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, a=2) }}",
    "{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }}",
    "{% macro m(a, b=a ~ '!') %}{{ b }}{% endmacro %}{{ m('x') }}",
    "{% macro m() %}  x  {% endmacro %}[{{ m() }}][{{ m()|trim }}][{{ m() is string }}]",
    "{% macro m(x) %}{% if x > 0 %}{{ x }}{{ m(x - 1) }}{% endif %}{% endmacro %}{{ m(3) }}",
    "{% set x = 1 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ m() }}",
    "{% macro m() %}{{ n2() }}{% endmacro %}{% macro n2() %}N{% endmacro %}{{ m() }}", "{{ m() }}{% macro m() %}M{% endmacro %}",
    "{% macro m() %}{% set inner = 1 %}{{ inner }}{% endmacro %}{{ m() }}{{ inner }}|",
    "{% set ns = namespace(c=0) %}{% macro bump() %}{% set ns.c = ns.c + 1 %}{% endmacro %}{{ bump() }}{{ bump() }}{{ ns.c }}",
    "{% macro m() %}x{% endmacro %}{{ m }}", "{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}in{{ n }}{% endcall %}",
    "{% macro wrap() %}{{ caller(1) }}{{ caller(2) }}{% endmacro %}{% call(v) wrap() %}[{{ v }}]{% endcall %}",
    "{% macro m() %}x{% endmacro %}{% call m() %}y{% endcall %}",
    "{% macro render(c) %}{% if c is string %}{{ c }}{% else %}{% for p in c %}{{ p.text }}{% endfor %}{% endif %}{% endmacro %}{{ render('a') }}{{ render([{'text': 'b'}, {'text': 'c'}]) }}")

# ---- whitespace control, trim_blocks, lstrip_blocks, comments, raw
add("a\n  {% if true %}\n  x\n  {% endif %}\n  b\n", "  {%+ if true %}x{% endif %}", "a  {# c #}\nb", "a\n  {#- c -#}  \nb",
    "{% raw %}{{ x }}{% endraw %}", "x {%- raw -%} {{ y }} {%- endraw -%} z", "  {% raw %}\n  {{ x }}\n  {% endraw %}\nafter",
    "{{ 1 }}  {% if true %}y{% endif %}", "{% if true %}\r\nA\r\n{% endif %}\r\n", "{{ 'a' }}\n", "line\n\n", "line\n",
    "{% if true +%}\nx{% endif %}", "{{ {'a': 1}}}", "{{ n -}}   \n  y", "{%- if true -%}  \n  a  \n  {%- endif -%}  b",
    "\t\t{% if true %}\nx\n\t\t{% endif %}\n", "{{ 'a' }}\n    {% if true %}z{% endif %}", "x   {{- 'y' -}}   z", "x\n\n{{- 'y' }}",
    "{% for i in l %}\n  {{ i }}\n{% endfor %}\n", "{%- for i in l -%}\n  {{ i }}\n{%- endfor -%}\n",
    "{# only a comment #}", "a{#\nmulti\nline\n#}b", "{#- x -#}", "  {# c #}  \nx", "{% if true %}  {% endif %}|",
    "  {%- if true %}a{% endif %}", "a\n   {%- if true %}b{% endif %}", " \u00a0{% if true %}x{% endif %}",
    "{% if true %}\n\n{% endif %}", "{{- ' lead' }}", "{% if true %}a{% endif %}\n{% if true %}b{% endif %}\n",
    "{% macro m() %}\n  text\n{% endmacro %}[{{ m() }}]", "{% set x %}\n  a\n{% endset %}[{{ x }}]",
    "{%- set x = 1 -%}\n\n{{ x }}", "a {%- if false %}x{% else -%} b {%- endif %} c", "{{ '{{' }}{{ '}}' }} {% raw %}{%{% endraw %}",
    "{% generation %}gen{{ n }}{% endgeneration %}", "{%- generation -%} a {%- endgeneration -%}")

# ---- globals
add("{{ raise_exception('boom') }}", "{% if n > 5 %}{{ raise_exception('n is ' ~ n) }}{% endif %}",
    "{{ dict(a=1, b=2) }} {{ dict([('x', 1)]) }} {{ dict(d, c=3) }}", "{{ namespace(a=1).a }}", "{{ range(100001)|length }}",
    "{{ cycler }}", "{{ strftime_now('%Y') is string }}", "{{ range(3) is sequence }}", "{{ ns }}{% set ns = 1 %}")

# ---- errors: syntax and unsupported
add("{% if %}", "{% if true %}", "{% endif %}", "{% for x in l %}", "{{ 1 + }}", "{{ }}", "{{ 'unterminated }}", "{% set %}",
    "{% foo %}", "{% if true %}{% endfor %}", "{% for x in l %}{% endif %}{% endfor %}", "{{ (1, 2 }}", "{{ [1, 2) }}",
    "{% block b %}{% endblock %}", "{% include 'x' %}", "{% extends 'x' %}", "{% import 'x' as y %}", "{% from 'x' import y %}",
    "{% for x in l recursive %}{{ loop(x) }}{% endfor %}", "{% break %}", "{% macro m() %}{% break %}{% endmacro %}",
    "{{ 1 ++ }}", "{# unterminated comment", "{% raw %}no end", "{{ x is }}", "{{ a.1b }}", "{% set 1 = 2 %}",
    "{{ 1 is defined is defined }}", "{% macro m(a=1, b) %}{% endmacro %}", "{{ f(*l, 1) }}", "{{ ù }}", "{% do l %}",
    "{% autoescape true %}x{% endautoescape %}", "{{ 'a' }}}", "{{ 1 }", "{% if true %}x{% else %}y{% else %}z{% endif %}")

# ---- runtime errors
add("{{ 1 + 'a' }}", "{{ 'a' + 1 }}", "{{ nil + 1 }}", "{{ undefined_thing + 1 }}", "{{ undefined_thing() }}", "{{ n() }}",
    "{{ 1 / 0 }}", "{{ 1 // 0 }}", "{{ 1 % 0 }}", "{{ 1.0 / 0 }}", "{{ 1 < 'a' }}", "{{ 'x' in nil }}", "{{ 1 in 'abc' }}",
    "{{ -s }}", "{{ n|length }}", "{{ 'x' in 5 }}", "{{ l|join(1) }}", "{{ {[1]: 2} }}", "{{ d[[1]] }}|", "{{ n.real }}",
    "{{ undefined_thing < 1 }}", "{{ undefined_thing|abs }}", "{{ -undefined_thing }}", "{{ d|first|upper }}")

# ---- jinja2 quirks found by differential fuzzing (frame-local names, lazy loop filters, constant folding, ...)
add("{% for i in [1] %}[{{ n }}]{% endfor %}{% set n = 1 %}{{ n }}", "{{ n }}{% set n = 1 %}{{ n }}",
    "{% macro m() %}[{{ n }}]{% endmacro %}{{ m() }}{% set n = 2 %}{{ m() }}",
    "{% for i in [1, 2] %}{% for j in [1] %}[{{ n }}]{% endfor %}{% set n = 9 %}{% endfor %}",
    "{% for i in [1] %}[{{ n }}]{% endfor %}{% if true %}{% set n = 1 %}{% endif %}",
    "{% with q = n %}{% for i in [1] %}[{{ n }}]{% endfor %}{% set n = 3 %}{% endwith %}",
    "{% macro m(p) %}{% for i in [1] %}[{{ n }}]{% endfor %}{% set n = p %}{{ n }}{% endmacro %}{{ m(9) }}",
    "{% for x in [] %}{% else %}{% set y = 1 %}{{ y }}{% endfor %}[{{ y }}]",
    "{% set x %}{{ n }}{% set n = 2 %}{{ n }}{% endset %}{{ x }}{{ n }}",
    "{% set ns = namespace(c=0) %}{% for x in [1, 2, 3] if ns.c < 2 %}{% set ns.c = ns.c + 1 %}{{ x }}{% endfor %}",
    "{% set ns = namespace(c=0) %}{% for x in [1, 2, 3] if ns.c < 1 %}{{ loop.last }}{% set ns.c = 5 %}{% endfor %}",
    "{% for a, b in [[1, 2], [3, 4]] if true %}{{ loop.nextitem }}{% endfor %}", "{% for a, b in [[1, 2], [3, 4]] %}{{ loop.nextitem }}{% endfor %}",
    "{% for x in [1, 2] %}{% continue %}{% else %}E{% endfor %}", "{% for x in [1, 2] %}{% if x == 2 %}{% continue %}{% endif %}{% else %}E{% endfor %}",
    "{% for i in [1, 2] %}{% set v %}{{ i }}{% break %}{% endset %}{{ v }}{% endfor %}done",
    "{{ 3[:2] }}|{{ (1, 2)|count }}|{{ ((1, 2)|count)[1:] }}|{{ {'k': 1}[-2:] }}|{{ (2 or n)[1:] }}",
    "{% if 2[-2:] %}T{% endif %}", "{{ (not (not [1, 2])[1:]) }}", "{{ 1[::2][-2:] }}",
    "{{ n.name is callable }} {{ missing is callable }}", "{{ 'a\tb' % l }}|{{ 'x' % missing }}", "{{ missing|int }}",
    "{{ missing|last }}|", "{{ 1.5 ** 1e17 }}", "{{ 0.0|selectattr('v')|list }}{{ none|map('x')|list }}", "{{ 1.5|truncate(5) }}",
    "{{ 'ab'|truncate(5) }}|{{ [1, 2]|truncate(5) }}", "{{ 5|indent }}")

CONTEXT_KEYS_EXTRA = {}

QINFER_REFUSES = {
    # Python prints the object's address, or identity of small ints/strings decides the result.
    "{{ d.items }}", "{{ l|reverse }}", "{{ l|map('upper') }}",
    "{{ l|items }}", "{{ 1000 is sameas 1000 }}", "{{ cycler }}", "{{ 'abc'|items }}",
    # Python features qinfer does not implement (it raises a clear error instead).
    "{{ 'x'.encode() }}", "{{ ('x'|safe).upper() }}", "{{ l|batch(2)|list }}", "{{ s|wordwrap(5) }}", "{{ n.real }}",
    "{% block b %}{% endblock %}", "{% autoescape true %}x{% endautoescape %}",
}


def render(template):
    try:
        return {"expected": _compile_jinja_template(template).render(**CONTEXT)}
    except jinja2.TemplateError as e:
        kind = "raise_exception" if type(e) is jinja2.TemplateError else type(e).__name__
        return {"error": {"type": kind, "message": str(e)}}
    except Exception as e:  # noqa: BLE001
        return {"error": {"type": type(e).__name__, "message": str(e)}}


def main():
    cases = []
    seen = set()
    for tmpl in T:
        assert tmpl not in seen, tmpl
        seen.add(tmpl)
        c = {"template": tmpl, **render(tmpl)}
        if tmpl in QINFER_REFUSES:
            c["qinfer_error"] = True
        cases.append(c)
    payload = {
        "generator": f"transformers {transformers.__version__}, jinja2 {jinja2.__version__}, tools/chat/make_jinja_cases.py",
        "context": CONTEXT,
        "cases": cases,
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(payload, f, ensure_ascii=False, indent=1)
        f.write("\n")
    n_err = sum(1 for c in cases if "error" in c)
    print(f"wrote {os.path.relpath(OUT, ROOT)}: {len(cases)} cases ({n_err} errors)")


if __name__ == "__main__":
    sys.exit(main())
