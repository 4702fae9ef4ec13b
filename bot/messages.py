"""Every sentence the bot says to people, in Korean and English. Korean is the default: most users write it."""

from __future__ import annotations

from typing import Any

CATALOG: dict[str, dict[str, str]] = {
    "followers": {"ko": "팔로워 {n:,}명", "en": "{n:,} followers"},
    "department": {"ko": "담당", "en": "Department"},
    "triage": {"ko": "분류 대기(트리아지)", "en": "Triage"},
    "due": {"ko": "응답 기한", "en": "Due"},
    "state": {"ko": "상태", "en": "State"},
    "keywords": {"ko": "키워드", "en": "Keywords"},
    "open_tweet": {"ko": "X에서 트윗 보기", "en": "Open the tweet on X"},
    "pending": {
        "ko": "⏳ {seconds}초 뒤 X에 답글로 보냅니다. 메시지를 수정하면 수정된 내용이, 삭제하면 전송이 취소됩니다.",
        "en": "⏳ Sending to X in {seconds}s. Edit your message to change what is sent; delete it to cancel.",
    },
    "pending_edited": {"ko": "✏️ 수정된 내용으로 보냅니다.", "en": "✏️ The edited text will be sent."},
    "cancelled": {"ko": "🚫 전송 취소: 메시지가 삭제되었습니다.", "en": "🚫 Cancelled: the message was deleted."},
    "sent": {"ko": "✅ X에 답글을 보냈습니다: {url}", "en": "✅ Sent to X: {url}"},
    "sent_duplicate": {
        "ko": "✅ X에 이미 같은 답글이 올라가 있어 다시 보내지 않았습니다.",
        "en": "✅ X already had this reply, so it was not sent again.",
    },
    "too_long": {
        "ko": "⚠️ 보내지 않았습니다: {weighted}/{limit}자(한글은 2자, 링크는 23자로 계산)입니다. "
              "{over}자 줄여서 다시 답글을 달아 주세요.",
        "en": "⚠️ Not sent: {weighted}/{limit} weighted characters (Hangul counts 2, a link 23). "
              "Shorten it by {over} and reply again.",
    },
    "empty": {"ko": "⚠️ 보낼 내용이 없습니다(멘션과 서식을 빼면 비어 있음).",
              "en": "⚠️ Nothing to send once mentions and formatting are removed."},
    "not_staff": {
        "ko": "🔒 {department} 담당자만 X에 답할 수 있어 이 답글은 보내지 않았습니다. 내부 메모는 '{prefix}'로 시작하세요.",
        "en": "🔒 Only {department} staff can answer on X, so this reply was not sent. "
              "Start internal notes with '{prefix}'.",
    },
    "edit_after_send": {
        "ko": "ℹ️ 이미 보낸 답글의 수정은 X에 반영되지 않습니다. 보낸 트윗: {url}",
        "en": "ℹ️ Edits after sending are not relayed to X. The sent tweet: {url}",
    },
    "delete_after_send": {
        "ko": "ℹ️ 이미 보낸 답글은 삭제해도 X에 남아 있습니다: {url}",
        "en": "ℹ️ The reply was already sent; deleting it here does not remove it from X: {url}",
    },
    "x_refused": {"ko": "❌ X가 답글을 거부했습니다: {detail}. 운영자에게 알렸습니다.",
                  "en": "❌ X refused the reply: {detail}. Operators have been told."},
    "x_failed": {"ko": "❌ X에 여러 번 보내지 못했습니다: {detail}", "en": "❌ Could not reach X after retries: {detail}"},
    "followup": {"ko": "💬 고객의 추가 답글 (@{username}):\n>{text}\n<{url}|X에서 보기>",
                 "en": "💬 Customer follow-up (@{username}):\n>{text}\n<{url}|Open on X>"},
}


def t(locale: str, key: str, **kwargs: Any) -> str:
    entry = CATALOG[key]
    return entry.get(locale, entry["en"]).format(**kwargs)
