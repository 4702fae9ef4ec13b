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
    "far_too_long": {
        "ko": "⚠️ 보내지 않았습니다: {chars:,}자로 X의 한도({limit}자)를 크게 넘습니다. 줄여서 다시 답글을 달아 주세요.",
        "en": "⚠️ Not sent: {chars:,} characters is far over X's limit ({limit} weighted). Shorten it and reply again.",
    },
    "poll_paused": {
        "ko": "⏸️ X 멘션 확인을 {until}까지 멈춥니다: {detail}", "en": "⏸️ Polling X for mentions paused until {until}: {detail}",
    },
    "x_refused_ops": {
        "ko": "❌ X가 답글을 거부했습니다 ({ticket}): {detail} {ops}", "en": "❌ X refused a reply ({ticket}): {detail} {ops}",
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
    # The daily manager summary (bot/flows/summary.py) and its charts (bot/charts.py).
    "summary_title_day": {"ko": "📊 일일 SLA 요약 · {date} ({time} 기준)",
                          "en": "📊 Daily SLA summary · {date} (as of {time})"},
    "summary_title_span": {"ko": "📊 SLA 요약 · {since} ~ {until}",
                           "en": "📊 SLA summary · {since} – {until}"},
    "summary_all": {"ko": "전체", "en": "All departments"},
    "summary_counts": {"ko": "접수 {received} · 답변 {answered} · 미결 {open} · 위반 {breached}",
                       "en": "received {received} · answered {answered} · open {open} · breached {breached}"},
    "summary_first_response": {"ko": "첫 응답 중앙값 {p50} · p90 {p90} / SLA {sla}",
                               "en": "first response p50 {p50} · p90 {p90} / SLA {sla}"},
    "summary_met": {"ko": "SLA 준수율 {pct}", "en": "SLA met {pct}"},
    "summary_vs_day": {"ko": "전일 대비", "en": "vs previous day"},
    "summary_vs_period": {"ko": "직전 기간 대비", "en": "vs previous period"},
    "summary_vs_week": {"ko": "지난주 같은 요일 대비", "en": "vs same weekday last week"},
    "summary_change": {"ko": "{label} 접수 {received} · 준수율 {met}",
                       "en": "{label}: received {received} · SLA met {met}"},
    "summary_pp": {"ko": "%p", "en": " pts"},
    "summary_breached_title": {"ko": "🚨 SLA 위반 {n}건", "en": "🚨 SLA breaches: {n}"},
    "summary_no_breaches": {"ko": "✅ SLA 위반 없음", "en": "✅ No SLA breaches"},
    "summary_due": {"ko": "기한 {due}", "en": "due {due}"},
    "summary_late": {"ko": "{late} 늦게 답변", "en": "answered {late} late"},
    "summary_unanswered": {"ko": "아직 답변 없음", "en": "not answered yet"},
    "summary_more": {"ko": "외 {n}건", "en": "and {n} more"},
    "summary_fast_track": {
        "ko": "⚡ 패스트트랙 {count}건: {within} 내 답변 {on_time} · 위반 {breached} · 미결 {open} · "
              "첫 응답 중앙값 {p50}",
        "en": "⚡ Fast-track {count}: answered within {within} {on_time} · breached {breached} · "
              "open {open} · first response p50 {p50}",
    },
    "summary_no_fast_track": {"ko": "⚡ 패스트트랙 없음", "en": "⚡ No fast-track tickets"},
    "summary_topics": {"ko": "🔥 많이 나온 주제: {topics}", "en": "🔥 Busiest topics: {topics}"},
    "summary_no_topics": {"ko": "🔥 많이 나온 주제: 없음", "en": "🔥 Busiest topics: none"},
    "summary_charts": {"ko": "📈 차트는 스레드에 있습니다.", "en": "📈 Charts are in the thread."},
    "summary_empty": {"ko": "이 기간에 들어온 멘션이 없습니다.", "en": "No mentions in this window."},
    "chart_first_response": {"ko": "첫 응답 시간 (중앙값 / p90) vs SLA",
                             "en": "First response (p50 / p90) vs SLA"},
    "chart_hours": {"ko": "시간", "en": "hours"},
    "chart_volume": {"ko": "시간대별 멘션", "en": "Mentions by hour"},
    "chart_hour_of_day": {"ko": "시 ({tz})", "en": "hour ({tz})"},
    "chart_mentions": {"ko": "멘션 수", "en": "mentions"},
    "chart_fast_track": {"ko": "패스트트랙", "en": "fast-track"},
    "chart_other": {"ko": "일반", "en": "other"},
    # SLA timers (bot/flows/timers.py).
    "sla_reminder": {"ko": "⏰ {who}응답 기한까지 {left} 남았습니다 (기한 {due}, {policy}).",
                     "en": "⏰ {who}{left} left to answer (due {due}, {policy})."},
    "sla_breach_thread": {
        "ko": "🚨 {leads}SLA 위반: 응답 기한({due})이 {late} 지났습니다. 확인 부탁드립니다.",
        "en": "🚨 {leads}SLA breached: the deadline ({due}) passed {late} ago. Please take a look.",
    },
    "sla_breach_managers": {
        "ko": "🚨 SLA 위반 · {department} · @{username} · 기한 {due} ({policy}) · {late} 초과\n{url}",
        "en": "🚨 SLA breach · {department} · @{username} · due {due} ({policy}) · {late} late\n{url}",
    },
    "sla_escalation_thread": {"ko": "📣 {users}기한이 {late} 지났는데 아직 답변이 없습니다. 도와주세요.",
                              "en": "📣 {users}still unanswered {late} past the deadline. Please step in."},
    "sla_escalation_managers": {
        "ko": "📣 아직 답변 없음 · {department} · @{username} · 기한 {late} 초과\n{url}",
        "en": "📣 Still unanswered · {department} · @{username} · {late} past the deadline\n{url}",
    },
    # Chatops: /escalate, /sla, ticket buttons, reply approval, App Home (bot/slash.py, bot/flows/*).
    "escalate_usage": {
        "ko": "사용법: `/escalate <트윗 URL 또는 id> [부서 id] [fast] [메모…]`",
        "en": "Usage: `/escalate <tweet URL or id> [department id] [fast] [note…]`",
    },
    "escalate_not_tweet": {
        "ko": "`{word}`은(는) 트윗 URL이나 id가 아닙니다. {usage}",
        "en": "`{word}` is not a tweet URL or id. {usage}",
    },
    "unknown_department": {
        "ko": "알 수 없는 부서 `{name}`입니다. 가능한 부서: {known}",
        "en": "Unknown department `{name}`. Known: {known}",
    },
    "escalate_operators_only": {
        "ko": "🔒 /escalate는 운영자만 쓸 수 있습니다. 요청할 사람: {who}",
        "en": "🔒 Only operators can /escalate. Ask one of: {who}",
    },
    "escalate_accepted": {
        "ko": "⏳ 트윗 {tweet_id}을(를) 티켓으로 만드는 중입니다…",
        "en": "⏳ Escalating tweet {tweet_id}…",
    },
    "escalate_exists": {
        "ko": "ℹ️ 이미 티켓이 있는 트윗입니다: {link}",
        "en": "ℹ️ That tweet is already a ticket: {link}",
    },
    "escalate_exists_unposted": {
        "ko": "ℹ️ 이미 티켓이 있는 트윗입니다. Slack 게시가 곧 이어집니다.",
        "en": "ℹ️ That tweet is already a ticket; its Slack post is on the way.",
    },
    "escalate_x_down": {
        "ko": "❌ 지금 X에 연결할 수 없어 아무것도 만들지 않았습니다 ({detail}). 잠시 뒤 다시 시도하세요.",
        "en": "❌ X is unreachable right now ({detail}); nothing was created. Try again in a minute.",
    },
    "escalate_x_refused": {
        "ko": "❌ X가 트윗 {tweet_id}을(를) 보여 주지 않아 아무것도 만들지 않았습니다 ({detail}).",
        "en": "❌ X refused to show tweet {tweet_id} ({detail}); nothing was created.",
    },
    "escalate_not_found": {
        "ko": "❌ 트윗 {tweet_id}을(를) X에서 찾을 수 없습니다(삭제되었거나 비공개). 아무것도 만들지 "
              "않았습니다.",
        "en": "❌ Tweet {tweet_id} was not found on X (deleted or private); nothing was created.",
    },
    "escalate_done": {
        "ko": "✅ 티켓을 만들었습니다 ({department}): {link}",
        "en": "✅ Ticket made ({department}): {link}",
    },
    "escalate_done_later": {
        "ko": "✅ 티켓을 만들었습니다 ({department}). Slack 게시가 곧 이어집니다.",
        "en": "✅ Ticket made ({department}); its Slack post will follow shortly.",
    },
    "escalate_thread_note": {
        "ko": "🚩 <@{user}> 님이 수동으로 올린 티켓입니다.{note}",
        "en": "🚩 Escalated by hand by <@{user}>.{note}",
    },
    "btn_claim": {"ko": "🙋 담당하기", "en": "🙋 Claim"},
    "btn_reassign": {"ko": "↪️ 부서 이동…", "en": "↪️ Reassign…"},
    "btn_resolve": {"ko": "답변 없이 종료", "en": "Resolve without reply"},
    "btn_cancel": {"ko": "취소", "en": "Cancel"},
    "btn_approve": {"ko": "✅ 승인", "en": "✅ Approve"},
    "btn_reject": {"ko": "↩️ 반려", "en": "↩️ Reject"},
    "resolve_confirm_title": {"ko": "답변 없이 종료할까요?", "en": "Resolve without a reply?"},
    "resolve_confirm_text": {
        "ko": "X에 답하지 않고 티켓을 닫습니다. SLA 시계가 멈추고, 보고서에는 '종료'로 따로 집계됩니다.",
        "en": "The ticket closes with no reply on X. Its SLA clock stops; reports count it apart as closed.",
    },
    "ticket_claimed": {
        "ko": "🙋 <@{user}> 님이 담당합니다. 알림은 이제 담당자에게 갑니다.",
        "en": "🙋 <@{user}> is on it; reminders will mention them.",
    },
    "ticket_resolved": {
        "ko": "⚪ <@{user}> 님이 답변 없이 종료했습니다. SLA 시계가 멈췄습니다.",
        "en": "⚪ Closed without a reply by <@{user}>. The SLA clock has stopped.",
    },
    "ticket_moved_away": {
        "ko": "{department}(으)로 이동 (<@{user}>): <{link}|새 스레드 열기>",
        "en": "moved to {department} by <@{user}>: <{link}|open the new thread>",
    },
    "ticket_moved_here": {
        "ko": "↪️ <@{user}> 님이 {department}에서 옮겨 왔습니다. 기한과 기록은 그대로입니다. "
              "<{link}|이전 스레드>",
        "en": "↪️ Moved here from {department} by <@{user}>; its deadline and record stay. "
              "<{link}|Earlier thread>",
    },
    "ticket_moved_history": {"ko": "이전 스레드의 대화 {n}건:", "en": "The earlier thread ({n} messages):"},
    "ticket_gone": {
        "ko": "⚠️ 이 메시지는 더 이상 티켓이 아닙니다(다른 부서로 옮겨졌을 수 있습니다).",
        "en": "⚠️ This message is no longer a ticket (it may have moved to another department).",
    },
    "ticket_not_open": {
        "ko": "ℹ️ 이 티켓은 이미 {state} 상태라 바꿀 수 없습니다.",
        "en": "ℹ️ This ticket is already {state}; nothing to change.",
    },
    "ticket_reply_in_flight": {
        "ko": "⚠️ 답글이 전송 또는 승인 대기 중입니다. 먼저 답글을 삭제해 취소하거나 처리가 끝난 뒤 "
              "다시 하세요.",
        "en": "⚠️ A reply is on its way (or awaiting approval). Delete it to cancel, or try again once "
              "it is done.",
    },
    "ticket_not_staff": {
        "ko": "🔒 {department} 담당자, 리드, 운영자만 할 수 있습니다.",
        "en": "🔒 Only {department} staff, leads or operators can do that.",
    },
    "ticket_same_department": {
        "ko": "ℹ️ 이미 {department} 티켓입니다.",
        "en": "ℹ️ It is already {department}'s ticket.",
    },
    "approval_request": {
        "ko": "🛂 {approvers}승인 요청: <@{author}> 님의 답글 (승인하면 X로 보냅니다)\n>{text}",
        "en": "🛂 {approvers}Approval needed: <@{author}>'s reply (sent to X once approved)\n>{text}",
    },
    "approval_edited": {
        "ko": "✏️ 작성자가 수정했습니다. 수정된 내용을 승인해 주세요.",
        "en": "✏️ Edited by its author; approve the new text.",
    },
    "approval_approved": {"ko": "✅ <@{user}> 님이 승인했습니다.", "en": "✅ Approved by <@{user}>."},
    "approval_rejected_note": {"ko": "↩️ <@{user}> 님이 반려했습니다.", "en": "↩️ Rejected by <@{user}>."},
    "approval_rejected": {
        "ko": "↩️ <@{author}> 님, <@{user}> 님이 답글을 반려했습니다: {reason}\n고쳐서 새 답글을 달아 "
              "주세요.",
        "en": "↩️ <@{author}>, <@{user}> sent your reply back: {reason}\nWrite a new reply with the changes.",
    },
    "approval_cancelled": {
        "ko": "🚫 작성자가 답글을 삭제해 승인 요청이 취소되었습니다.",
        "en": "🚫 Cancelled: the author deleted the reply.",
    },
    "approval_not_lead": {
        "ko": "🔒 {who}만 답글을 승인하거나 반려할 수 있습니다.",
        "en": "🔒 Only {who} can approve or reject replies.",
    },
    "approval_done": {
        "ko": "ℹ️ 이 답글은 이미 처리되었습니다 ({state}).",
        "en": "ℹ️ That reply was already handled ({state}).",
    },
    "reject_title": {"ko": "답글 반려", "en": "Reject the reply"},
    "reject_reason": {"ko": "작성자에게 보낼 반려 사유", "en": "Reason (goes to the author in the thread)"},
    "sla_usage": {
        "ko": "사용법: `/sla [부서 id] [today|week]`",
        "en": "Usage: `/sla [department id] [today|week]`",
    },
    "sla_title_today": {
        "ko": "📊 SLA · 오늘 {date} ({time} 기준)",
        "en": "📊 SLA · today {date} (as of {time})",
    },
    "sla_title_week": {
        "ko": "📊 SLA · 최근 7일 {since} ~ {until} ({time} 기준)",
        "en": "📊 SLA · last 7 days {since} – {until} (as of {time})",
    },
    "sla_line": {
        "ko": "*{name}* (`{id}`): 접수 {received} · 답변 {answered} · 미결 {open} · 종료 {closed} · "
              "위반 {breached} · 첫 응답 중앙값 {p50} · p90 {p90} · 준수율 {met}",
        "en": "*{name}* (`{id}`): received {received} · answered {answered} · open {open} · closed "
              "{closed} · breached {breached} · first response p50 {p50} · p90 {p90} · SLA met {met}",
    },
    "home_title": {"ko": "Escalator", "en": "Escalator"},
    "home_today": {"ko": "📊 오늘 ({date}, {time} 기준)", "en": "📊 Today ({date}, as of {time})"},
    "home_open": {"ko": "📂 미결 티켓", "en": "📂 Open tickets"},
    "home_none": {"ko": "미결 티켓이 없습니다. 🎉", "en": "No open tickets. 🎉"},
    "home_ticket": {
        "ko": "{icon} <{link}|@{username}> {text} · 기한 {due}{late}",
        "en": "{icon} <{link}|@{username}> {text} · due {due}{late}",
    },
    "home_late": {"ko": " · 🚨 {late} 초과", "en": " · 🚨 {late} late"},
    "home_more": {"ko": "…외 {n}건", "en": "…and {n} more"},
    "storm_header": {
        "ko": "🌩️ *{department}: 멘션 폭주* ({topic}) · {count}건 — 스레드에 모아 둡니다. 여기에 답글을 달면 확인 후 모두에게 보냅니다.",
        "en": "🌩️ *{department}: storm of mentions* ({topic}) · {count} so far — gathered in this thread. A reply here "
              "goes to all of them after a confirmation.",
    },
    "storm_header_ended": {
        "ko": "🌤️ *{department}: 멘션 폭주 종료* ({topic}) · 총 {count}건",
        "en": "🌤️ *{department}: storm over* ({topic}) · {count} mentions in all",
    },
    "storm_end_button": {"ko": "폭주 종료", "en": "End storm"},
    "storm_confirm": {
        "ko": "📣 이 답글을 *{count}명*에게 보낼까요? (각 답글은 고객의 @아이디로 시작합니다)\n>{text}",
        "en": "📣 Send this reply to *{count} people*? (each starts with the customer's @handle)\n>{text}",
    },
    "storm_send_button": {"ko": "{count}명에게 보내기", "en": "Send to {count}"},
    "storm_cancel_button": {"ko": "취소", "en": "Cancel"},
    "storm_not_yours": {"ko": "🔒 이 답글의 작성자나 담당자만 보낼 수 있습니다.",
                        "en": "🔒 Only the author or the department's staff can send this."},
    "storm_sending": {"ko": "📤 보내는 중: {sent}/{total}", "en": "📤 Sending: {sent}/{total}"},
    "storm_paused": {"ko": "⏸️ X 한도 때문에 잠시 멈춤: {sent}/{total}", "en": "⏸️ Paused for X's rate limit: {sent}/{total}"},
    "storm_done": {"ko": "✅ {sent}/{total}명에게 보냈습니다 (실패 {failed})", "en": "✅ Sent to {sent}/{total} (failed: {failed})"},
    "storm_cancelled": {"ko": "🚫 <@{user}>님이 일괄 답글을 취소했습니다.", "en": "🚫 <@{user}> cancelled the broadcast."},
    "storm_off": {"ko": "폭주 모드가 꺼져 있습니다 (routing.yaml에 storm: 섹션이 없음).",
                  "en": "Storm mode is off (routing.yaml has no storm: section)."},
    "storm_usage": {"ko": "사용법: `/escalate storm <부서 id> <주제…>` · 부서: {known}",
                    "en": "Usage: `/escalate storm <department id> <topic…>` · departments: {known}"},
    "storm_declaring": {"ko": "🌩️ {department} 폭주 스레드를 엽니다…", "en": "🌩️ Opening a storm thread for {department}…"},
    "ticket_moved": {"ko": "↪️ 이 티켓은 다른 부서로 옮겨졌습니다. 답글은 새 스레드에 달아 주세요: {link}",
                     "en": "↪️ This ticket moved to another department; reply in its new thread: {link}"},
    "storm_ended": {"ko": "🌤️ 폭주가 끝났습니다 ({by}). 새 멘션은 다시 하나씩 올라옵니다.",
                    "en": "🌤️ The storm is over ({by}); new mentions are posted one by one again."},
    # -- issue 11 --
    "sent_as": {
        "ko": "✅ X에 답글을 보냈습니다: {url}\nX는 같은 문장을 두 번 받지 않아 티켓 번호를 붙여 보냈습니다. 보낸 내용:\n>{text}",
        "en": "✅ Sent to X: {url}\nX refuses the same words twice, so the ticket's reference was added. "
              "What went out:\n>{text}",
    },
    "sent_found": {
        "ko": "✅ 앞선 시도가 이미 X에 올라가 있어 다시 보내지 않았습니다: {url}",
        "en": "✅ An earlier attempt had reached X, so it was not sent again: {url}",
    },
    "x_duplicate_failed": {
        "ko": "⚠️ 보내지 않았습니다: X가 같은 내용의 트윗이라며 거부했습니다(티켓 번호를 붙여도). "
              "문장을 바꿔 새 답글을 달아 주세요.",
        "en": "⚠️ Not sent: X refused it as duplicate content, even with the ticket's reference. "
              "Reword it and write a new reply.",
    },
    "edit_while_sending": {
        "ko": "⚠️ 이미 X로 보내는 중이라 수정 내용은 보내지 않습니다. 바꾸려면 삭제하고 새 답글을 달아 주세요.",
        "en": "⚠️ Already sending to X: this edit is not sent. Delete it and write a new reply.",
    },
    "edit_after_approval": {
        "ko": "↩️ 승인 뒤에 수정되어 다시 승인이 필요합니다.",
        "en": "↩️ Edited after approval: it goes back to a lead.",
    },
    "delete_while_sending": {
        "ko": "⚠️ X로 보내는 중에 삭제되었습니다. X가 받았다면 트윗은 남으며, 링크를 이 스레드에 알려 드립니다.",
        "en": "⚠️ Deleted while being sent to X: if X took it, the tweet stands and its link follows here.",
    },
    "reply_reopens": {
        "ko": "↩️ 답변 없이 종료된 티켓이었으나 이 답글로 다시 열었습니다.",
        "en": "↩️ This ticket was resolved without a reply; this reply re-opens it.",
    },
    "storm_stop_button": {"ko": "중지", "en": "Stop"},
    "storm_stopped": {"ko": "⏹️ <@{user}>님이 일괄 답글을 멈췄습니다 ({sent}/{total} 보냄).",
                      "en": "⏹️ <@{user}> stopped the broadcast ({sent}/{total} sent)."},
    "storm_not_staff": {"ko": "🔒 {department} 담당자, 리드 또는 운영자만 할 수 있습니다.",
                        "en": "🔒 Only {department} staff, leads or operators can do that."},
    # -- issue 13 --
    "x_not_summoned": {
        "ko": "⚠️ 이 트윗은 계정을 멘션하거나 인용하지 않아 X가 이 계정의 공개 답글을 거절합니다. "
              "전화나 DM으로 답변해 주세요.",
        "en": "⚠️ This tweet neither mentions nor quotes the account: X will refuse a public reply from this "
              "account; answer by phone or DM.",
    },
    "x_not_summoned_reply": {
        "ko": "🚫 X로 보내지 않았습니다: @{username}님의 트윗이 계정을 멘션하거나 인용하지 않아 X가 공개 답글을 "
              "거절합니다(셀프서브 이용 등급). 전화나 DM으로 답변해 주세요.",
        "en": "🚫 Not sent to X: @{username}'s tweet neither mentions nor quotes the account, so X refuses a "
              "public reply (self-serve access). Answer by phone or DM.",
    },
    "x_budget_held": {
        "ko": "⏳ 이 계정의 X 게시 한도에 도달해 이 답글은 {at}에 보냅니다. 사라지지 않으며 순서대로 나갑니다.",
        "en": "⏳ The account's X posting limit is reached: this reply goes at {at}. Nothing is lost; replies "
              "go in order.",
    },
    "storm_budget": {
        "ko": "⏳ {total}명 중 {sent}명에게 보냈습니다. 나머지는 X가 허용하는 대로 {at}부터 보냅니다 "
              "(티켓 답글용 한도 {reserve}건은 남겨 둡니다).",
        "en": "⏳ {sent} of {total} sent; the rest from {at} as X allows ({reserve} posts kept for ticket "
              "replies).",
    },
    "x_usage_capped": {
        "ko": "⛔ X 월간 읽기 한도(usage cap)에 도달해 멘션 읽기를 멈췄습니다. 새 멘션은 한도가 풀릴 때까지 Slack에 "
              "오지 않습니다(답글 보내기는 계속됩니다). 한도는 {days}일 뒤 초기화되며, 크레딧을 추가하면 더 빨리 "
              "풀립니다. {minutes}분마다 다시 시도하고 풀리면 자동으로 재개합니다. {ops}\n> {detail}",
        "en": "⛔ X's monthly read cap is reached: reading mentions is paused. New mentions will not reach Slack "
              "until it lifts (replies still go out). The cap resets in {days} day(s), sooner if credits are added. "
              "The bot tries again every {minutes} min and resumes by itself. {ops}\n> {detail}",
    },
    "x_usage_lifted": {
        "ko": "✅ X 읽기 한도가 풀려 멘션 읽기를 재개했습니다.",
        "en": "✅ X's read cap has lifted: reading mentions again.",
    },
    "x_usage_line": {
        "ko": "X 읽기: 오늘 {today}건, 이번 주기 {cycle} / {cap}건 ({pct}%, {days}일 뒤 초기화)",
        "en": "X reads: {today} today, {cycle} of {cap} this cycle ({pct}%, resets in {days} days)",
    },
    "x_budget_line": {
        "ko": "X 게시 한도 남음: {windows} (티켓 답글용 예비 {reserve}건)",
        "en": "X posting budget left: {windows} ({reserve} kept for ticket replies)",
    },
    # -- saved replies --
    "saved_menu": {"ko": "저장된 답변…", "en": "Saved reply…"},
    "saved_unknown": {
        "ko": "🔎 저장된 답변 `{name}`이(가) 없어 아무것도 보내지 않았습니다. 쓸 수 있는 답변: {known}",
        "en": "🔎 There is no saved reply `{name}`, so nothing was sent. Saved replies here: {known}",
    },
    "saved_pending": {
        "ko": "⏳ <@{user}> 님이 고른 저장된 답변 `{name}`을(를) {seconds}초 뒤 X에 보냅니다:\n>{text}",
        "en": "⏳ Saved reply `{name}`, chosen by <@{user}>, goes to X in {seconds}s:\n>{text}",
    },
    "saved_picked": {
        "ko": "🗂️ <@{user}> 님이 저장된 답변 `{name}`을(를) 골랐습니다:\n>{text}",
        "en": "🗂️ <@{user}> chose saved reply `{name}`:\n>{text}",
    },
    "saved_sent": {
        "ko": "✅ X에 답글을 보냈습니다 (저장된 답변 `{name}`): {url}\n>{text}",
        "en": "✅ Sent to X (saved reply `{name}`): {url}\n>{text}",
    },
    "saved_cancelled": {
        "ko": "🚫 전송 취소: <@{user}> 님이 저장된 답변 `{name}`을(를) 취소했습니다.",
        "en": "🚫 Cancelled: <@{user}> cancelled saved reply `{name}`.",
    },
    "saved_cancel_not_yours": {
        "ko": "🔒 이 저장된 답변은 고른 사람(<@{user}>)만 취소할 수 있습니다.",
        "en": "🔒 Only <@{user}>, who chose this saved reply, can cancel it.",
    },
    "saved_cancel_too_late": {
        "ko": "ℹ️ 이미 처리된 답변이라 취소할 수 없습니다 (상태: {state}).",
        "en": "ℹ️ Too late to cancel: this reply is {state}.",
    },
    "saved_gone": {
        "ko": "ℹ️ 저장된 답변 `{name}`이(가) 이제 설정에 없습니다. 다른 답변을 골라 주세요.",
        "en": "ℹ️ Saved reply `{name}` is no longer configured; pick another.",
    },
}


# The report figures split by X account, and the saved replies used (issue 16): CLI, /sla, App Home, summary.
CATALOG.update({
    "figures_account": {"ko": "계정 {id}", "en": "account {id}"},
    "figures_accounts_title": {"ko": "계정별", "en": "By account"},
    "figures_replies_title": {"ko": "💬 많이 쓴 저장 답변", "en": "💬 Saved replies used"},
    "figures_replies_shared": {"ko": "공용", "en": "shared"},
    "figures_replies_line": {"ko": "{department}: {used}", "en": "{department}: {used}"},
})

def t(locale: str, key: str, **kwargs: Any) -> str:
    entry = CATALOG[key]
    return entry.get(locale, entry["en"]).format(**kwargs)
