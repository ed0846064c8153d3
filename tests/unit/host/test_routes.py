"""Route templates: ASP.NET Core syntax as the Functions host reads it."""

from __future__ import annotations

import pytest

from local.host.routes import RouteTable, RouteTemplate, RouteTemplateError


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("health", "health", {}),
        ("health", "HEALTH", {}),
        ("health", "health/", {}),
        ("jobs/{job_id}", "jobs/42", {"job_id": "42"}),
        ("jobs/{job_id}", "jobs/a%20b", {"job_id": "a b"}),
        ("jobs/{job_id}/items", "jobs/7/items", {"job_id": "7"}),
        ("items/{id:int}", "items/-3", {"id": "-3"}),
        ("items/{id:int}", "items/x", None),
        ("items/{id:int}", "items/99999999999", None),
        ("items/{id:long}", "items/99999999999", {"id": "99999999999"}),
        ("items/{id:int:min(5)}", "items/4", None),
        ("items/{id:int:min(5)}", "items/5", {"id": "5"}),
        ("items/{id:range(1,3)}", "items/3", {"id": "3"}),
        ("items/{id:range(1,3)}", "items/4", None),
        ("items/{flag:bool}", "items/True", {"flag": "True"}),
        ("items/{g:guid}", "items/not-a-guid", None),
        ("items/{name:alpha}", "items/abc", {"name": "abc"}),
        ("items/{name:alpha}", "items/ab1", None),
        ("items/{name:minlength(3)}", "items/ab", None),
        ("items/{name:length(2)}", "items/ab", {"name": "ab"}),
        ("code/{c:regex(^[a-z]{{2}}$)}", "code/ab", {"c": "ab"}),
        ("code/{c:regex(^[a-z]{{2}}$)}", "code/abc", None),
        ("tags/{tag?}", "tags", {}),
        ("tags/{tag?}", "tags/red", {"tag": "red"}),
        ("tags/{tag:int?}", "tags/red", None),
        ("page/{n=1}", "page", {"n": "1"}),
        ("page/{n=1}", "page/4", {"n": "4"}),
        ("files/{*path}", "files", {}),
        ("files/{*path}", "files/a/b/c.json", {"path": "a/b/c.json"}),
        ("files/{**path}", "files/a/b", {"path": "a/b"}),
        ("d/{name}.{ext}", "d/item.v2.json", {"name": "item.v2", "ext": "json"}),
        ("d/{name}.{ext}", "d/noext", None),
        ("", "", {}),
        ("a/{b}", "a", None),
        ("a/{b}", "a/b/c", None),
    ],
)
def test_template_matching(template: str, path: str, expected: dict[str, str] | None) -> None:
    assert RouteTemplate.parse(template).match(path) == expected


def test_guid_constraint_accepts_a_guid() -> None:
    guid = "6f1c5a3e-0b7a-4c55-9f37-0c9d2a7d8e11"
    assert RouteTemplate.parse("items/{g:guid}").match(f"items/{guid}") == {"g": guid}


@pytest.mark.parametrize(
    "template",
    [
        "a/{b",
        "a/{*rest}/c",
        "a/{b?}/c",
        "a/{b}{c}",
        "a/{b}/{b}",
        "a/{b:nosuch}",
        "a/{1b}",
        "a//b",
        "a/{b:regex(()}",
    ],
)
def test_invalid_templates_are_refused(template: str) -> None:
    with pytest.raises(RouteTemplateError):
        RouteTemplate.parse(template)


def test_table_prefers_literals_then_constrained_then_plain_then_catch_all() -> None:
    table: RouteTable[str] = RouteTable()
    table.add("items/{*rest}", None, "catch-all")
    table.add("items/{id}", ["GET"], "plain")
    table.add("items/{id:int}", ["GET"], "int")
    table.add("items/latest", ["GET"], "literal")
    assert table.match("GET", "items/latest").target == "literal"
    assert table.match("GET", "items/12").target == "int"
    assert table.match("GET", "items/abc").target == "plain"
    assert table.match("GET", "items/a/b").target == "catch-all"


def test_table_reports_the_allowed_methods_when_only_the_method_is_wrong() -> None:
    table: RouteTable[str] = RouteTable()
    table.add("jobs/{id}", ["GET"], "get")
    table.add("jobs/{id}", ["DELETE"], "delete")
    assert table.match("delete", "jobs/1").target == "delete"
    miss = table.match("POST", "jobs/1")
    assert miss.target is None
    assert miss.allowed == frozenset({"GET", "DELETE"})
    unknown = table.match("GET", "nothing/here")
    assert unknown.target is None
    assert unknown.allowed == frozenset()


def test_routes_without_methods_accept_any_method() -> None:
    table: RouteTable[str] = RouteTable()
    table.add("any", None, "any")
    assert table.match("PATCH", "any").target == "any"
