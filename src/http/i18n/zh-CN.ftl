# 中文消息：与 en.ftl 一一对应，参数相同（测试会检查）。
# (Fluent 的术语只接受字面量参数，所以枚举值的译名直接写在各条消息的选择器里。)

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
event-subject-erased = { $actor } 删除了一位数据主体的个人数据：{ $reason }
event-subject-merged = { $actor } 将一位数据主体合并到另一位：{ $reason }
event-subject-repaired = { $actor } 修复了一位数据主体：{ $reason }

## 错误（problem）的标题与固定的说明

problem-bad-request = 请求有误
problem-malformed-body = 请求体格式错误
problem-invalid-query = 查询参数无效
problem-invalid-query-detail = 查询中有 { $count } 个参数无效
problem-unauthenticated = 需要身份认证
problem-forbidden = 无权执行此操作
problem-not-found = 未找到
problem-method-not-allowed = 不支持该方法
problem-method-not-allowed-detail = 该资源不支持此 HTTP 方法
problem-invalid-transition = 当前状态不允许此操作
problem-rule-violated = 违反业务规则
problem-schedule-conflict = 时间窗口已被占用
problem-outside-change-window = 不在变更窗口内
problem-change-frozen = 处于冻结期
problem-precondition-failed = 工单已被修改
problem-payload-too-large = 请求体过大
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
