# 中文消息：与 en.ftl 一一对应，参数相同（测试会检查）。
# (Fluent 的术语只接受字面量参数，所以枚举值的译名直接写在各条消息的选择器里；
# 代码给出的短语用 KEY() 变成选择器的键，例如 KEY($command)：record satisfaction for → record_satisfaction_for。)

## 投诉

event-complaint-filed = { $actor } 登记了投诉 { $number }，投诉人 { $complainant_name }，渠道：{ $channel ->
    [phone] 电话
    [email] 电子邮件
    [web] 网站
    [chat] 在线客服
    [in_person] 现场
   *[other] { $channel }
}：“{ $title }”（类别 { $category }，优先级 { $priority }）
event-complaint-acknowledged = { $message ->
    [none] { $actor } 受理了投诉
   *[other] { $actor } 受理了投诉，并告知投诉人：“{ $message }”
}
event-complaint-assigned = { $assignee ->
    [none] { $actor } 将投诉分派给 { $team } 组
   *[other] { $team ->
        [none] { $actor } 将投诉分派给 { $assignee }
       *[other] { $actor } 将投诉分派给 { $assignee }（{ $team } 组）
    }
}
event-complaint-note-added = { $visibility ->
    [complainant] { $actor } 向投诉人发送了进展：“{ $body }”
   *[other] { $actor } 添加了内部备注：“{ $body }”
}
event-complaint-waiting-on-customer = { $actor } 正在等待客户回复：{ $reason }
event-complaint-resumed = { $actor } 恢复处理投诉
event-complaint-resolved = { $root_cause ->
    [none] { $actor } 解决了投诉：{ $resolution }
   *[other] { $actor } 解决了投诉：{ $resolution }（根本原因：{ $root_cause }）
}
event-complaint-satisfaction-recorded = { $actor } 记录了投诉人的满意度：{ $rating } 分（满分 5 分）
event-complaint-closed = { $actor } 关闭了投诉
event-complaint-reopened = { $actor } 重新打开了投诉：{ $reason }
event-complaint-escalated = { $actor } 将投诉升级为故障 { $fault_number }
event-complaint-linked-fault-resolved = 关联故障 { $fault_number } 已解决：{ $resolution }
event-complaint-linked-fault-reopened = 关联故障 { $fault_number } 已重新打开：{ $reason }
event-complaint-personal-data-resealed = 投诉人的个人数据已重新加密（{ $values_count } 项）：{ $reseal_reason }
event-complaint-details-corrected = { $actor } 更正了投诉的登记信息（被更正的原值见变更明细）：{ $reason }
event-complaint-priority-changed = { $actor } 将优先级从 { $from } 调整为 { $to }：{ $reason }
event-complaint-linked = { $actor } 将本工单与 { $other_number } 关联（{ $relation ->
    [relates_to] 相关
    [caused_by] 由其引起
    [causes] 引起
    [duplicates] 重复
    [duplicated_by] 被重复
   *[other] { $relation }
}）
event-complaint-unlinked = { $actor } 解除了与 { $other_number } 的关联：{ $reason }

## 故障

event-fault-reported = { $actor } 报告了 { $affected_service } 的故障 { $number }（发现方式：{ $detected_by }）：“{ $title }”
event-fault-triaged = { $actor } 将故障定级为 { $severity } 级
event-fault-technician-assigned = { $actor } 指派了技术员 { $technician }
event-fault-evaluated = { $actor } 评估了故障：{ $nature }，预计工作量约 { $estimated_effort_minutes } 分钟
event-fault-investigation-started = { $actor } 开始调查故障
event-fault-mitigated = { $actor } 缓解了故障：{ $workaround }
event-fault-repair-logged = { $actor } 记录了一次{ $maintenance_type ->
    [corrective] 纠正性
    [adaptive] 适应性
    [perfective] 完善性
    [preventive] 预防性
   *[other] { $maintenance_type }
}维修，技术员 { $technician }：{ $action_taken }（{ $person_minutes } 人·分钟）
event-fault-resolved = { $actor } 解决了故障：{ $resolution }（根本原因：{ $root_cause }）
event-fault-review-written = { $actor } 撰写了故障复盘：{ $summary }
event-fault-action-item-completed = { $actor } 完成了复盘中的一项改进措施
event-fault-closed = { $actor } 关闭了故障
event-fault-reopened = { $actor } 重新打开了故障：{ $reason }
event-fault-note-added = { $actor } 添加了备注：“{ $body }”
event-fault-repair-voided = { $actor } 作废了误记的第 { $repair } 条维修记录：{ $reason }
event-fault-affected-service-corrected = { $actor } 将受影响的服务从 { $from } 更正为 { $to }：{ $reason }
event-fault-linked = { $actor } 将本工单与 { $other_number } 关联（{ $relation ->
    [relates_to] 相关
    [caused_by] 由其引起
    [causes] 引起
    [duplicates] 重复
    [duplicated_by] 被重复
   *[other] { $relation }
}）
event-fault-unlinked = { $actor } 解除了与 { $other_number } 的关联：{ $reason }

## 变更

event-change-drafted = { $actor } 起草了{ $change_type ->
    [standard] 标准
    [normal] 常规
    [emergency] 紧急
   *[other] { $change_type }
}变更 { $number }：“{ $title }”
event-change-amended = { $actor } 修改了变更
event-change-submitted = { $actor } 提交了变更
event-change-assessed = { $actor } 评估了变更，风险：{ $risk ->
    [low] 低
    [medium] 中
    [high] 高
   *[other] { $risk }
}
event-change-plan-amended = { $actor } 修改了实施计划（风险：{ $risk ->
    [low] 低
    [medium] 中
    [high] 高
   *[other] { $risk }
}）
event-change-approved = { $actor } 批准了变更：{ $comment }
event-change-rejected = { $actor } 驳回了变更：{ $comment }
event-change-assigned = { $actor } 将变更分派给 { $assignee }
event-change-scheduled = { $actor } 将变更排期在 { $start } 至 { $end }（{ $time_zone }）
event-change-unscheduled = { $actor } 取消了变更的排期：{ $reason }
event-change-start-authorised = { $actor } 授权在变更窗口（{ $window_start } 至 { $window_end }）之外开始实施：{ $reason }
event-change-implementation-started = { $actor } 开始实施变更
event-change-rollout-step-recorded = { $kind ->
    [canary] { $actor } 将变更灰度发布至 { $percent }%
    [blue_green_switch] { $actor } 完成了蓝绿切换
   *[other] { $actor } 全量发布了变更
}
event-change-completed = { $actor } 完成了变更
event-change-rolled-back = { $actor } 回滚了变更：{ $reason }
event-change-failed = { $actor } 将变更记录为失败：{ $reason }
event-change-reviewed = { $actor } 完成了变更后评审：{ $outcome ->
    [successful] 成功
    [partially_successful] 部分成功
    [failed] 失败
   *[other] { $outcome }
}
event-change-closed = { $actor } 关闭了变更
event-change-note-added = { $actor } 添加了备注：“{ $body }”
event-change-linked = { $actor } 将本工单与 { $other_number } 关联（{ $relation ->
    [relates_to] 相关
    [caused_by] 由其引起
    [causes] 引起
    [duplicates] 重复
    [duplicated_by] 被重复
   *[other] { $relation }
}）
event-change-unlinked = { $actor } 解除了与 { $other_number } 的关联：{ $reason }

## 变更日历、冻结窗口与数据主体

event-calendar-booked = { $actor } 在 { $service } 上为 { $change_number } 预订了 { $start } 至 { $end } 的窗口
event-calendar-released = { $actor } 释放了 { $change_number } 在 { $service } 上的预订：{ $reason }
event-freeze-declared = { $actor } 宣布了 { $start } 至 { $end }（{ $time_zone }）的冻结期：{ $reason }
event-freeze-lifted = { $actor } 解除了冻结窗口 { $id }：{ $reason }
event-business-calendar-defined = { $actor } 定义了工作日历 { $code }“{ $definition_name }”（{ $definition_time_zone }），含 { $definition_holidays_count } 个节假日和 { $definition_workdays_count } 个调休工作日
event-business-calendar-amended = { $actor } 修改了工作日历“{ $definition_name }”（{ $definition_time_zone }）：现含 { $definition_holidays_count } 个节假日和 { $definition_workdays_count } 个调休工作日

## 服务级别

event-sla-clocks-pinned = 已固定服务级别计时（{ $cause }），策略版本 { $policy_version }，日历 { $calendar_code }（版本 { $calendar_version }）：首次响应截止 { $first_response_due_at }，解决截止 { $resolution_due_at }
event-sla-clocks-paused = 等待客户期间服务级别计时暂停（日历 { $calendar_code }）
event-sla-clocks-resumed = 服务级别计时恢复：首次响应截止 { $first_response_due_at }，解决截止 { $resolution_due_at }
event-sla-clock-stopped = { $met ->
    [true] { $target } 计时（第 { $cycle } 轮）已停止，未超出目标
    [false] { $target } 计时（第 { $cycle } 轮）已停止，已超出目标
   *[other] { $target } 计时（第 { $cycle } 轮）已停止
}
event-sla-policy-amended = { $actor } 修改了服务级别策略：{ $reason }
event-subject-erased = { $actor } 删除了一位数据主体的个人数据：{ $reason }
event-subject-merged = { $actor } 将一位数据主体合并到另一位：{ $reason }
event-subject-repaired = { $actor } 修复了一位数据主体：{ $reason }

## 错误（problem）的标题，与除数字外每次相同的说明；其余说明及每个无效字段的说明见后

problem-bad-request = 请求有误
problem-malformed-body = 请求体格式错误
problem-invalid-query = 查询参数无效
problem-invalid-query-detail = 查询中有 { $count } 个参数无效
problem-unauthenticated = 需要身份认证
problem-forbidden = 无权执行此操作
problem-forbidden-detail = 此操作需要以下权限：{ permission-name }
problem-not-found = 未找到
problem-method-not-allowed = 不支持该方法
problem-method-not-allowed-detail = 该资源不支持此 HTTP 方法
problem-invalid-transition = 当前状态不允许此操作
problem-invalid-transition-detail = { $aggregate ->
    [complaint] 投诉
    [fault] 故障
    [change] 变更
   *[other] { $aggregate }
}当前为“{ $state ->
    [filed] 已登记
    [acknowledged] 已受理
    [in_progress] 处理中
    [waiting_on_customer] 等待客户回复
    [resolved] 已解决
    [closed] 已关闭
    [reported] 已报告
    [triaged] 已定级
    [investigating] 调查中
    [mitigated] 已缓解
    [draft] 草稿
    [submitted] 已提交
    [assessed] 已评估
    [approved] 已批准
    [rejected] 已驳回
    [scheduled] 已排期
    [implementing] 实施中
    [completed] 已完成
    [rolled_back] 已回滚
    [failed] 已失败
    [reviewed] 已评审
   *[other] { $state }
}”状态，不能{ KEY($command) ->
    [acknowledge] 受理
    [assign] 分派
    [add_a_note_to] 添加备注
    [wait_on_the_customer_for] 等待客户回复
    [resume] 恢复处理
    [resolve] 解决
    [record_satisfaction_for] 记录满意度
    [close] 关闭
    [reopen] 重新打开
    [change_the_priority_of] 调整优先级
    [escalate] 升级为故障
    [triage] 定级
    [evaluate] 评估
    [assign_a_technician_to] 指派技术员
    [start_investigating] 开始调查
    [mitigate] 缓解
    [log_a_repair_on] 记录维修
    [write_a_review_of] 撰写复盘
    [complete_an_action_item_of] 完成改进措施
    [void_a_repair_of] 作废维修记录
    [correct_the_affected_service_of] 更正受影响的服务
    [amend] 修改
    [submit] 提交
    [assess] 评估
    [amend_the_plan_of] 修改实施计划
    [approve] 批准
    [reject] 驳回
    [authorise_an_out_of_window_start_of] 授权在窗口之外开始实施
    [record_a_rollout_step_of] 记录发布步骤
    [complete] 完成
    [roll_back] 回滚
    [fail] 标记为失败
    [review] 评审
    [schedule] 排期
    [start_implementing] 开始实施
    [unschedule] 取消排期
   *[other] { $command }
}
problem-rule-violated = 违反业务规则
problem-schedule-conflict = 时间窗口已被占用
problem-outside-change-window = 不在变更窗口内
problem-change-frozen = 处于冻结期
problem-precondition-failed = 工单已被修改
problem-payload-too-large = 请求体过大
problem-payload-too-large-detail = 请求体超过了 { $limit } 字节的上限
problem-unsupported-media-type = 不支持的媒体类型
problem-validation-failed = 请求无效
problem-validation-failed-detail = 请求中有 { $count } 个字段无效
problem-idempotency-key-reused = 幂等键已被使用
problem-idempotency-key-reused-detail = 此 Idempotency-Key 已用于另一个不同的请求
problem-idempotency-in-progress = 请求仍在处理中
problem-idempotency-in-progress-detail = 使用此 Idempotency-Key 的请求仍在处理中，请稍后重试
problem-precondition-required = 需要 If-Match
problem-precondition-required-detail = 此请求会改变状态，必须携带 If-Match（工单当前的 ETag）
problem-unavailable = 服务不可用
problem-internal = 服务器内部错误
problem-internal-detail = 服务器内部发生错误

## 各项权限允许做什么（按权限键）

permission-name = { $permission ->
    [ticket_read] 查看投诉；查看可读工单的列表与历史
    [pii_read] 查看明文个人数据及其所属的数据主体；登记时指定数据主体
    [complaint_file] 登记投诉
    [complaint_handle] 受理、等待、恢复、解决、评分、关闭、重新打开投诉；更正其登记信息、调整其优先级
    [complaint_assign] 分派投诉
    [complaint_note] 为投诉添加备注或进展
    [fault_read] 查看所有故障
    [fault_read_linked] 查看与投诉关联的故障
    [complaint_escalate] 将投诉升级为故障
    [fault_report] 报告故障
    [fault_triage] 为故障定级、指派技术员
    [fault_work] 评估、调查、缓解、解决、关闭、重新打开故障；记录和作废维修；更正受影响的服务；撰写复盘
    [ticket_link] 关联两个自己可查看的工单
    [subject_admin] 按联系方式查找数据主体；导出、删除或合并数据主体
    [audit_read] 查看个人数据访问日志（含数据主体 ID），校验日志
    [events_read] 订阅事件流，按自己可查看的范围过滤（所有工单查看者均可）
    [events_read_all] 不经过滤地订阅完整事件流：所有流，无间断
    [change_read] 查看变更及变更日历
    [change_request] 起草、修改、提交变更；为其添加备注
    [change_assess] 评估变更，修改其实施计划
    [change_approve] 批准或驳回变更
    [change_schedule] 为变更排期、取消排期、分派负责人；授权在窗口之外开始实施
    [change_implement] 实施、发布、完成、回滚、标记失败、评审、关闭变更
    [freeze_manage] 宣布和解除冻结窗口
    [business_calendar_manage] 定义和修改工作日历（工作时间、节假日、调休工作日）
    [sla_policy_manage] 修改服务级别策略（响应和解决目标、日历、预警阈值）
   *[other] { $permission }
}

## 未找到

not-found-ticket = 没有这个工单
not-found-ticket-named = 没有工单“{ $reference }”
not-found-readable-ticket-named = 没有你可以查看的工单“{ $reference }”
not-found-kind = 没有这个{ $kind ->
    [complaint] 投诉
    [fault] 故障
    [change] 变更
   *[other] { $kind }
}
not-found-ticket-not-yet = 工单在该时间点尚不存在
not-found-freeze-window = 没有冻结窗口 { $id }
not-found-business-calendar = 没有工作日历 { $id }
not-found-resource = 没有这个资源
no-such-subject = 没有数据主体 { $subject }

## 前提条件

precondition-changed-by-another-request = 工单已被另一个请求修改，请重新加载后重试
precondition-stale-if-match = If-Match 没有指向工单的当前版本，请重新加载后重试
precondition-lost-race = 另一个请求先修改了工单，请重新加载后重试
precondition-weak-entity-tag = 弱实体标签永远不会与 If-Match 匹配

## 身份认证

unauthenticated-authorization-missing = 缺少 Authorization 请求头：请发送 `Authorization: Bearer <token>`
unauthenticated-authorization-not-text = Authorization 请求头不是有效的文本
unauthenticated-authorization-not-bearer = Authorization 请求头必须使用 Bearer 方案
unauthenticated-token-invalid = 持有者令牌无效：{ $reason ->
    [ExpiredSignature] 令牌已过期
    [ImmatureSignature] 令牌尚未生效
    [InvalidSignature] 签名不正确
    [InvalidIssuer] 签发者不被接受
    [InvalidAudience] 受众不符
    [InvalidSubject] 主体不符
    [InvalidAlgorithm] 签名算法不被接受
    [MissingAlgorithm] 缺少签名算法
    [InvalidToken] 格式不正确
   *[other] { $reason }
}
unauthenticated-token-without-claim = 持有者令牌无效：缺少必需的声明 { $claim }
unauthenticated-token-undecodable = 持有者令牌无效：无法解码（{ $cause }）
unauthenticated-token-without-kid = 持有者令牌无效：令牌没有 kid
unauthenticated-token-unknown-kid = 持有者令牌无效：未知的 kid“{ $kid }”
unauthenticated-token-empty-sub = 持有者令牌无效：sub 为空
unauthenticated-token-without-iss = 持有者令牌无效：缺少 iss
unauthenticated-token-exp-not-integer = 持有者令牌无效：exp 不是整数
unauthenticated-metrics-token-required = /metrics 需要指标专用的持有者令牌

## 请求头、媒体类型与请求体

bad-request-header-not-text = { $name } 请求头不是有效的文本
bad-request-header-token-shape = { $name } 请求头必须是 1 到 { $max } 个可见 ASCII 字符
bad-request-last-event-id = Last-Event-ID 必须是一个位置（0 或更大）
bad-request-body-unreadable = 无法读取请求体：{ $cause }
bad-request-framework = 请求有误：{ $cause }
bad-request-invalid = 请求无效
unsupported-media-type-missing = 请求没有 Content-Type，请发送 application/json
unsupported-media-type-unsupported = 不支持 Content-Type“{ $content_type }”，请发送 application/json
unsupported-media-type-other = 不支持的媒体类型
malformed-body-not-json = 请求体不是有效的 JSON：第 { $line } 行第 { $column } 列，{ $reason ->
    [eof-list] 列表不完整
    [eof-object] 对象不完整
    [eof-string] 字符串不完整
    [eof-value] 内容不完整，缺少值
    [expected-colon] 此处应为 `:`
    [expected-comma-or-bracket] 此处应为 `,` 或 `]`
    [expected-comma-or-brace] 此处应为 `,` 或 `{ "}" }`
    [expected-ident] 此处应为 true、false 或 null
    [expected-value] 此处应为一个值
    [expected-quote] 此处应为 `"`
    [invalid-escape] 转义序列无效
    [invalid-number] 数字无效
    [number-out-of-range] 数字超出范围
    [invalid-unicode-code-point] Unicode 码点无效
    [control-character] 字符串中含有控制字符（\u0000-\u001F）
    [key-must-be-a-string] 键必须是字符串
    [lone-leading-surrogate] 十六进制转义中有孤立的前导代理项
    [trailing-comma] 多了一个尾随逗号
    [trailing-characters] 末尾有多余的字符
    [unexpected-end-of-hex-escape] 十六进制转义意外结束
    [recursion-limit-exceeded] 嵌套层数超过上限
   *[other] { $reason }
}

## 所依赖的服务

unavailable-database = 数据库不可用：{ $cause }
unavailable-database-busy = 数据库繁忙：未能及时获得锁
unavailable-decided-from-moving-streams = 每次处理本请求时，服务级别策略或工作日历都发生了变更；请重试
unavailable-migration-history = 无法读取迁移历史：{ $cause }
unavailable-migrations-pending = 数据库迁移尚未完成
unavailable-service = 服务不可用

## 字段：指针所指的值有什么问题

field-empty = 不能为空
field-length = 长度必须为 { $min } 到 { $max } 个字符（当前为 { $length } 个）
field-control-characters = 不能包含控制字符
field-range = 必须为 { $min } 到 { $max }
field-between = 必须在 { $min } 到 { $max } 之间
field-more-than-zero = 必须大于 0
field-one-or-more = 必须大于或等于 1
field-zero-or-more = 必须大于或等于 0
field-too-large = 数值过大
field-too-many-items = 最多 { $max } 项（当前有 { $count } 项）
field-item-count = 必须有 { $min } 到 { $max } 项（当前有 { $count } 项）
field-listed-twice = { $item } 重复列出
field-one-of = 必须是以下之一：{ $allowed }
field-uuid = 必须是 UUID
field-instant = 必须是 RFC 3339 格式的时间点
field-unknown-time-zone = “{ $name }”不是 IANA 时区名称（例如 Asia/Shanghai 或 Europe/Berlin）
field-time-shape = 必须是带时区偏移的 RFC 3339 时间（2026-03-01T10:00:00+08:00），或按命令的 time_zone 解读的本地时间（2026-03-01T10:00）
field-time-ambiguous = { $time } 在 { $time_zone } 出现两次（时钟回拨）：请给出时区偏移，{ $earlier } 或 { $later }
field-time-skipped = { $time } 在 { $time_zone } 不存在（时钟拨快）：请给出带时区偏移的时间
field-end-not-after-start = 必须晚于 start
field-window-too-long = 最多只能比 start 晚 { $days } 天
field-window-over = 必须是将来的时间
field-freeze-over = 必须是将来的时间：已经结束的冻结期不起任何保护作用
field-calendar-code = 必须是 1 到 32 个字母、数字、_ 或 -，并以字母或数字开头（例如 CN 或 24x7）
field-time-of-day = 必须是 HH:MM 格式的时刻，00:00 至 23:59（结束时刻可以是 24:00）
field-hours-overlap = 从 { $start } 开始，早于当天上一个时段的结束：请按顺序列出当天的时段，且不可重叠
field-calendar-never-works = 至少要有一天给出工作时间：没有任何工作时间的日历永远不会让目标到期
field-sla-resolution-before-response = 不能少于首次响应目标（{ $first_response_minutes } 分钟）
field-sla-unknown-calendar = 没有这个工作日历：{ $code } 既未定义也不是内置日历
field-workday-is-holiday = { $date } 也被列为节假日：一天要么是节假日，要么是调休工作日
field-after-covers-until = 不能晚于 covers_until（{ $covers_until }）：日历在那天之后没有数据
field-calendar-span = 必须晚于 `from`，且最多晚 366 天
field-foreign-cursor = 不是本服务器签发的游标
field-foreign-queue-cursor = 不是此队列的游标
field-give-one-contact = 请在 phone、email、customer_ref 中给出且只给出一项
field-give-at-most-one-cut = as_of、version、position 最多只能给出一项

## 按 JSON 读取的请求体字段，沿用 serde 的说法：类型与取值按 Rust 的名称

field-missing = 缺少字段 `{ $field }`
field-unknown = 未知字段 `{ $field }`，可用的字段：{ $expected }
field-unknown-none-expected = 未知字段 `{ $field }`，此处不接受任何字段
field-unknown-variant = 未知的取值 `{ $variant }`，应为以下之一：{ $expected }
field-invalid-type = 类型不符：应为 { $expected }，实际为 { $found }
field-invalid-value = 值无效：应为 { $expected }，实际为 { $found }
field-invalid-length = 长度不符：应为 { $expected }，实际为 { $length }
field-duplicate = 字段 `{ $field }` 重复
field-member-given-twice = 成员“{ $name }”出现了不止一次
field-not-uuid = 不是有效的 UUID：{ $cause }
field-unreadable = 值无效：{ $cause }

## 投诉

field-give-contact = 请至少给出 phone、email、customer_ref 中的一项
field-give-name-or-contact = 请至少给出 name、phone、email、customer_ref 中的一项
field-phone = 必须是 3 到 32 个由数字、空格和 + - ( ) . 组成的字符，且至少含 3 个数字
field-email-length = 长度最多为 { $max } 个字符（当前为 { $length } 个）
field-email = 必须是电子邮件地址，例如 name@example.com
field-give-team-or-assignee = 请给出 team、assignee 或两者
field-give-correction = 请给出 category、channel 或 complainant
field-another-person-name = 另一个人须连同姓名一起记录
field-another-person-details = 另一个人需要提供其详细信息
field-subject-only-for-another-person = 只有更正为另一个人（another_person）时才能指定数据主体
field-reseal-nothing = 请至少指定一项需要重新加密的值
field-reseal-replaces-twice = 所替换的值已在前面指定过
rule-complaint-already-assigned = 投诉已经分派给该组和该人员
rule-satisfaction-already-recorded = 本次解决已经记录过满意度
rule-priority-unchanged = 投诉的优先级已经是 { $priority }
rule-already-sealed-under-subject = 投诉的个人数据已经在该数据主体下加密
rule-complainant-record-unavailable = 无法取得投诉人已记录的信息以作比较
rule-correction-changes-nothing = 更正没有改变任何内容：给出的每个值都与记录相同

## 故障

field-severity-one-needs-technician = 1 级故障需要技术员：请给出一位，或先指派一位
field-repair-ends-before-start = 必须晚于 started_at
field-repair-in-future = 不能是将来的时间：只能记录已经完成的工作
field-no-such-action-item = 复盘中没有第 { $item } 项改进措施（共 { $count } 项）
rule-already-escalated = 投诉已经升级为故障 { $fault }
rule-not-the-evaluator = 只有定级时指定的评估人（{ $evaluator }）可以评估此故障
rule-fault-has-no-evaluator = 故障没有评估人，请先定级
rule-already-the-technician = { $technician } 已经是该故障的技术员
rule-investigation-needs-technician = 开始调查前请先指派技术员
rule-close-needs-fault-review = 1 级或 2 级故障在完成故障复盘前不能关闭
rule-fault-review-written = 该故障已有故障复盘
rule-no-fault-review = 该故障没有故障复盘，因此没有改进措施
rule-action-item-done = 第 { $item } 项改进措施已经完成
rule-no-such-repair = 该故障没有第 { $repair } 条维修记录（共 { $count } 条）
rule-repair-already-voided = 第 { $repair } 条维修记录已经作废
rule-affected-service-unchanged = 故障受影响的服务已经是 { $service }

## 变更、变更窗口与冻结期

field-not-a-fault = { $number } 是{ $kind ->
    [complaint] 投诉
    [fault] 故障
    [change] 变更
   *[other] { $kind }
}，不是故障
field-give-amendment = 请至少给出 title、description、affected_services、maintenance_type 中的一项
field-canary-needs-percent = 灰度发布步骤需要给出 percent
field-percent-only-for-canary = 只有灰度发布步骤才接受 percent；{ $step } 即全量
field-withdrawal-needs-reason = 撤回从未实施的变更时必须给出
field-override-needs-reason = 设置 override_conflicts 时必须给出：说明为何可以接受时间重叠
rule-standard-change-pre-approved = 标准变更已预先批准
rule-requester-cannot-approve = 申请人不能批准自己的变更
rule-requester-cannot-reject = 申请人不能驳回自己的变更
rule-change-has-no-plan = 变更没有实施计划，请先评估
rule-already-approved-by-you = 你已经批准过这个计划；第二次批准需要由其他人进行
rule-already-the-assignee = { $assignee } 已经是该变更的负责人
rule-emergency-needs-no-authorisation = 紧急变更可以立即开始，无需授权
rule-requester-cannot-authorise = 申请人不能授权自己的变更在窗口之外开始实施
rule-start-already-authorised = { $by } 已于 { $at } 授权在窗口之外开始实施
rule-rollout-ended = 发布已经以 { $step } 结束；最终步骤之后不能再有其他步骤
rule-canary-must-grow = 灰度发布步骤必须超过已发布的 { $previous }%（本次为 { $percent }%）
rule-complete-needs-final-step = 只有完成最终发布步骤（blue_green_switch 或 full_rollout）后，变更才算完成
rule-close-needs-change-review = { $change_type ->
    [standard] 标准
    [normal] 常规
    [emergency] 紧急
   *[other] { $change_type }
}变更在关闭前需要完成变更后评审
rule-emergency-close-needs-approval = 已实施的紧急变更在补批之前不能关闭
rule-scheduled-without-window = { $change } 已排期，但没有时间窗口
rule-no-such-freeze = 没有冻结窗口 { $id }
rule-freeze-already-lifted = 冻结窗口 { $id } 已经解除
rule-calendar-unchanged = 新定义与日历当前的定义相同
rule-calendar-code-taken = 代码为 { $code } 的工作日历已经存在：请修改它
rule-sla-policy-unchanged = 新的目标表与当前策略相同
window-in-freeze-on-service = 该时间窗口落在冻结窗口 { $id }（{ $reason }）内，冻结期为 { $start } 至 { $end }，涉及 { $service }；冻结期内只能排期紧急变更
window-in-freeze-everywhere = 该时间窗口落在冻结窗口 { $id }（{ $reason }）内，冻结期为 { $start } 至 { $end }，涉及所有服务；冻结期内只能排期紧急变更
window-taken = 该时间窗口与 { $changes } 的预订重叠；如仍要预订，请设置 override_conflicts 并给出 override_reason
window-not-yet-open = { $change } 排期在 { $start } 至 { $end }（{ $time_zone }）；现在是 { $now }，窗口尚未开始。请在窗口内开始实施、重新排期，或请经理授权在窗口之外开始实施
window-closed = { $change } 排期在 { $start } 至 { $end }（{ $time_zone }）；现在是 { $now }，窗口已经结束。请在窗口内开始实施、重新排期，或请经理授权在窗口之外开始实施
window-frozen-on-service = 冻结窗口 { $id }（{ $reason }）禁止在 { $start } 至 { $end } 期间对 { $service } 进行变更；{ $change } 在冻结期结束前不能开始实施。请重新排期，或请求解除冻结
window-frozen-everywhere = 冻结窗口 { $id }（{ $reason }）禁止在 { $start } 至 { $end } 期间对所有服务进行变更；{ $change } 在冻结期结束前不能开始实施。请重新排期，或请求解除冻结

## 工单之间的关联，以及命令所指的工单

field-relation-not-requestable = 必须是以下之一：{ $allowed }；{ $relation } 记录在另一个工单上，请从那里申请 { $inverse }
field-not-a-ticket-reference = “{ $reference }”既不是工单 ID，也不是工单编号
rule-link-to-itself = 工单不能与自身关联
rule-already-linked = 这两个工单已经关联：{ $this } { $relation } { $other }
rule-not-linked = { $this } 与 { $other } 没有关联

## 数据主体

field-merge-into-itself = 请指定被合并者以外的另一个数据主体
rule-subject-already-erased = 该数据主体的个人数据已经删除
rule-subject-erased = 投诉人的个人数据已被删除，不能再为其记录新的个人数据
subject-gone = 数据主体 { $subject } 已没有个人数据（{ $marker }）
