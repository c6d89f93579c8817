"""What a page may say after a redirect: a fixed set of messages chosen by code. Pure.

A form post redirects with ``?error=CODE`` or ``?message=done&action=…&status=…``; the page shows
the text this module has for those values and nothing of what the query string held, so a crafted
link cannot make a leadhub page say anything (phishing text, a fake "call this number").
"""

from __future__ import annotations

from schemas.cases import Action, Status

ERRORS = {
    "invalid": "表单内容不完整或有误，请检查必填项后重试 / The form is incomplete or invalid: check the required fields and try again.",
    "forbidden": "您无权对此案件执行该操作 / You may not take this action on this case.",
    "not_found": "案件不存在 / The case does not exist.",
    "conflict": "案件当前状态不允许此操作 / The case's current status does not allow this action.",
    "unavailable": "服务暂时不可用，操作未完成，请稍后重试 / The service is unavailable and nothing was changed; try again shortly.",
    "failed": "操作未完成 / The action did not go through.",
    "unknown_key": "密钥无效 / Unknown key.",
    "session_ended": "登录已过期或已退出，请重新登录 / Your session expired or ended: log in again.",
}
# HTTP status of a refused action -> the error code the page shows for it.
STATUS_CODES = {400: "invalid", 403: "forbidden", 404: "not_found", 409: "conflict", 422: "invalid", 503: "unavailable"}


def error_code(http_status: int) -> str:
    return STATUS_CODES.get(http_status, "failed")


def error_text(code: str | None) -> str | None:
    """The fixed text for ``code``; an unknown code shows the generic failure, no code shows nothing."""
    if not code:
        return None
    return ERRORS.get(code, ERRORS["failed"])


def done_text(action: str | None, status: str | None, pending: bool, labels: dict[str, str]) -> str | None:
    """'<action>: done, status <status>' for a known action and status; anything else shows nothing."""
    if action not in {a.value for a in Action} or status not in {s.value for s in Status}:
        return None
    text = f"{labels.get(action, action)}: 已完成 done, 状态 status {status}"
    return text + ("（索引稍后显示，请刷新 / the index shows it in a moment; reload）" if pending else "")
