#!/usr/bin/env python3
"""Writes the chat-template goldens of tests/chat/data: transformers' apply_chat_template(..., tokenize=False) on
varied conversations, for the real Qwen3 template and for the Qwen3.5-style template of tests/chat/data.

    /opt/hfvenv/bin/python tools/chat/make_chat_goldens.py [--shared ../shared]

Each output file is {"generator", "template", "template_sha256", "cases": [{"name", "inputs", "expected" | "error"}]}.
"inputs" is exactly what qinfer::render_chat_template takes (messages, tools, add_generation_prompt,
enable_thinking, plus the special tokens the tokenizer passes); "error" records a template that fails
({"type", "message"}). The Qwen3 template itself is not copied here (the shared data README asks not to); the test
reads it from shared/data/qwen3-tokenizer and checks its sha256.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile

import jinja2
import transformers
from transformers import AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "tests", "chat", "data")

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Zürich"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}
SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the web.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "max_results": {"type": "integer", "default": 5}},
            "required": ["query"],
        },
    },
}


def call(name, arguments, wrapped=True, call_id=None):
    if not wrapped:
        return {"name": name, "arguments": arguments}
    tc = {"type": "function", "function": {"name": name, "arguments": arguments}}
    if call_id:
        tc = {"id": call_id, **tc}
    return tc


SYSTEM = {"role": "system", "content": "You are a helpful assistant."}


def cases():
    u = lambda c: {"role": "user", "content": c}  # noqa: E731
    a = lambda c, **kw: {"role": "assistant", "content": c, **kw}  # noqa: E731
    tool = lambda c, **kw: {"role": "tool", "content": c, **kw}  # noqa: E731
    weather_call = a("", tool_calls=[call("get_weather", {"city": "Paris", "unit": "celsius"}, call_id="call_1")])
    yield "single_user", dict(messages=[u("Hello!")], add_generation_prompt=True)
    yield "single_user_no_prompt", dict(messages=[u("Hello!")], add_generation_prompt=False)
    yield "system_user_thinking_off", dict(messages=[SYSTEM, u("What is 2+2?")], add_generation_prompt=True,
                                           enable_thinking=False)
    yield "system_user_thinking_on", dict(messages=[SYSTEM, u("What is 2+2?")], add_generation_prompt=True,
                                          enable_thinking=True)
    yield "multi_turn", dict(messages=[SYSTEM, u("Hi"), a("Hello! How can I help?"), u("Tell me a joke.")],
                             add_generation_prompt=True)
    yield "history_think_in_content", dict(
        messages=[u("Hi"), a("<think>\nThe user greets me.\n</think>\n\nHello!"), u("How are you?")],
        add_generation_prompt=True)
    yield "final_assistant_think_in_content", dict(
        messages=[u("Hi"), a("<think>\nGreeting.\n</think>\n\nHello there!")], add_generation_prompt=False)
    yield "reasoning_content_field", dict(
        messages=[u("Compute 3*7."), a("21", reasoning_content="3 times 7 is 21.")], add_generation_prompt=False)
    yield "reasoning_content_history", dict(
        messages=[u("Compute 3*7."), a("21", reasoning_content="3 times 7 is 21."), u("And 4*5?")],
        add_generation_prompt=True, enable_thinking=True)
    yield "reasoning_content_none", dict(
        messages=[u("Hi"), a("<think>\nhmm\n</think>\nHey", reasoning_content=None)], add_generation_prompt=False)
    yield "tools_system_user", dict(messages=[SYSTEM, u("Weather in Paris?")], tools=[WEATHER_TOOL],
                                    add_generation_prompt=True)
    yield "tools_no_system", dict(messages=[u("Weather in Paris?")], tools=[WEATHER_TOOL, SEARCH_TOOL],
                                  add_generation_prompt=True, enable_thinking=False)
    yield "tool_call_dict_args", dict(
        messages=[SYSTEM, u("Weather in Paris?"), weather_call,
                  tool('{"temperature": 21, "condition": "sunny"}', tool_call_id="call_1", name="get_weather")],
        tools=[WEATHER_TOOL], add_generation_prompt=True)
    yield "tool_call_string_args", dict(
        messages=[u("Weather in Paris?"),
                  a("", tool_calls=[call("get_weather", '{"city": "Paris"}')]),
                  tool("21 degrees")],
        tools=[WEATHER_TOOL], add_generation_prompt=True)
    yield "tool_call_flat_with_content", dict(
        messages=[u("Weather in Paris?"),
                  a("Let me check that for you.", tool_calls=[call("get_weather", {"city": "Paris"}, wrapped=False)]),
                  tool("21 degrees"), a("It is 21 degrees in Paris.")],
        tools=[WEATHER_TOOL], add_generation_prompt=False)
    yield "parallel_calls_consecutive_tools", dict(
        messages=[SYSTEM, u("Weather in Paris and Rome, and news about both?"),
                  a("", tool_calls=[call("get_weather", {"city": "Paris"}), call("get_weather", {"city": "Rome"}),
                                    call("search", {"query": "Paris Rome news", "max_results": 3})]),
                  tool("Paris: 21C"), tool("Rome: 25C"), tool("No news."),
                  a("Paris is 21C and Rome 25C; no news.")],
        tools=[WEATHER_TOOL, SEARCH_TOOL], add_generation_prompt=False)
    yield "multi_step_agent", dict(
        messages=[u("Plan a trip to Rome."),
                  a("", reasoning_content="I need the weather first.",
                    tool_calls=[call("get_weather", {"city": "Rome"})]),
                  tool("25C, sunny"),
                  a("<think>\nNow search for sights.\n</think>\n\n",
                    tool_calls=[call("search", {"query": "Rome sights"})]),
                  tool("Colosseum, Pantheon")],
        tools=[WEATHER_TOOL, SEARCH_TOOL], add_generation_prompt=True)
    yield "tool_response_in_user_message", dict(
        messages=[u("Start."), a("ok"), u("<tool_response>\nresult\n</tool_response>")], add_generation_prompt=True)
    yield "nested_argument_values", dict(
        messages=[u("Do it."),
                  a("", tool_calls=[call("configure", {"flag": True, "none": None, "count": 3, "ratio": 0.5,
                                                        "big": 1e20, "items": [1, "two", {"three": 3.0}],
                                                        "options": {"b": 1, "a": [True, False]},
                                                        "text": "multi\nline \"quoted\""})]),
                  tool("done")],
        add_generation_prompt=True)
    yield "unicode_content", dict(
        messages=[SYSTEM, u("Ünïcödé — 日本語のテキスト 🎉 \u00a0x"),
                  a("", tool_calls=[call("get_weather", {"city": "Zürich 🇨🇭", "note": "naïve café"})]),
                  tool("温度: 21°C"), a("Es sind 21 °C in Zürich. ✅")],
        tools=[WEATHER_TOOL], add_generation_prompt=True, enable_thinking=True)
    yield "empty_contents", dict(messages=[SYSTEM, u(""), a(""), u("")], add_generation_prompt=True)
    yield "whitespace_contents", dict(messages=[u("  spaced  \n"), a("\n\nanswer\n\n")], add_generation_prompt=False)
    yield "enable_thinking_false_history", dict(
        messages=[u("Hi"), a("<think>\nx\n</think>\n\nHello"), u("Bye")], add_generation_prompt=True,
        enable_thinking=False)
    yield "assistant_null_content_tool_calls", dict(
        messages=[u("Weather?"), a(None, tool_calls=[call("get_weather", {"city": "Oslo"})]), tool("cold")],
        tools=[WEATHER_TOOL], add_generation_prompt=True)
    yield "system_in_middle", dict(messages=[u("Hi"), {"role": "system", "content": "Be brief."}, u("Why?")],
                                   add_generation_prompt=True)
    yield "no_user_query", dict(messages=[SYSTEM, a("Hello.")], add_generation_prompt=True)


def qwen35_extra_cases():
    yield "content_parts_text_image", dict(
        messages=[{"role": "system", "content": [{"type": "text", "text": "Describe images."}]},
                  {"role": "user", "content": [{"type": "image", "image": "a.png"},
                                               {"type": "text", "text": "What is this?"},
                                               {"type": "image_url", "image_url": {"url": "b.png"}}]},
                  {"role": "assistant", "content": [{"type": "text", "text": "Two pictures."}]},
                  {"role": "user", "content": [{"type": "video", "video": "c.mp4"}, {"type": "text", "text": "And?"}]}],
        add_generation_prompt=True, add_vision_id=True)
    yield "system_image_error", dict(
        messages=[{"role": "system", "content": [{"type": "image", "image": "a.png"}]}, {"role": "user", "content": "x"}],
        add_generation_prompt=True)
    yield "unexpected_role_error", dict(messages=[{"role": "user", "content": "x"}, {"role": "critic", "content": "y"}],
                                        add_generation_prompt=True)
    yield "empty_messages_error", dict(messages=[], add_generation_prompt=True)


def render_all(tok, template_source, case_iter):
    out = []
    special = {k: v for k, v in tok.special_tokens_map.items() if isinstance(v, str)}
    for name, kw in case_iter:
        kw = json.loads(json.dumps(kw))  # what the C++ side will read: plain JSON
        messages = kw.pop("messages")
        inputs = {"messages": messages, **kw, **special}
        try:
            text = tok.apply_chat_template(messages, tokenize=False, chat_template=template_source, **kw)
            out.append({"name": name, "inputs": inputs, "expected": text})
        except Exception as e:  # noqa: BLE001 - record the failure the C++ side must reproduce
            kind = "raise_exception" if isinstance(e, jinja2.TemplateError) and type(e) is jinja2.TemplateError \
                else type(e).__name__
            out.append({"name": name, "inputs": inputs, "error": {"type": kind, "message": str(e)}})
    return out


def write(path, payload):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(path, ROOT)}: {len(payload['cases'])} cases")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    args = ap.parse_args()
    src = os.path.join(args.shared, "data", "qwen3-tokenizer")
    tmp = tempfile.mkdtemp(prefix="qinfer_chat_goldens_")
    try:
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(src, f), tmp)
        tok = AutoTokenizer.from_pretrained(tmp)
        generator = f"transformers {transformers.__version__}, jinja2 {jinja2.__version__}, tools/chat/make_chat_goldens.py"

        qwen3 = tok.chat_template
        write(os.path.join(DATA, "qwen3_chat_goldens.json"), {
            "generator": generator,
            "template": "shared/data/qwen3-tokenizer/tokenizer_config.json (chat_template)",
            "template_sha256": hashlib.sha256(qwen3.encode("utf-8")).hexdigest(),
            "cases": render_all(tok, qwen3, cases()),
        })

        with open(os.path.join(DATA, "qwen3_5_style_chat_template.jinja"), encoding="utf-8") as f:
            qwen35 = f.read()
        write(os.path.join(DATA, "qwen3_5_style_chat_goldens.json"), {
            "generator": generator,
            "template": "tests/chat/data/qwen3_5_style_chat_template.jinja",
            "template_sha256": hashlib.sha256(qwen35.encode("utf-8")).hexdigest(),
            "cases": render_all(tok, qwen35, list(cases()) + list(qwen35_extra_cases())),
        })
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
