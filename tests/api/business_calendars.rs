//! Business calendars: admins define and amend them, everyone who reads
//! tickets reads them, and `opsledger calendars load` defines `24x7` and `CN`.

use opsledger::startup::config::{LoadCalendarsArgs, MasterKeyArgs};
use opsledger::startup::maintenance;
use serde_json::{Value, json};

use crate::helpers::{MASTER_KEY, TestApp, admin, agent, database_args, json_of, manager, problem, spawn_app};

/// Runs `opsledger calendars load` against the app's database; answers the
/// codes it defined.
async fn load_calendars(app: &TestApp) -> Vec<String> {
    let args = LoadCalendarsArgs {
        database: database_args(&app.db),
        master: MasterKeyArgs {
            master_key: Some(MASTER_KEY.to_owned()),
            master_key_file: None,
        },
    };
    maintenance::load_calendars(&args)
        .await
        .expect("the shipped calendars load")
}

fn office_hours() -> Value {
    json!([{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}])
}

fn shanghai_office() -> Value {
    json!({
        "code": "SH-office",
        "definition": {
            "name": "Shanghai office",
            "time_zone": "Asia/Shanghai",
            "weekly_hours": {
                "monday": office_hours(), "tuesday": office_hours(), "wednesday": office_hours(),
                "thursday": office_hours(), "friday": office_hours()
            },
            "holidays": [{"date": "2026-10-01", "name": "National Day"}],
            "workdays": [{"date": "2026-10-10", "name": "National Day", "hours": office_hours()}],
            "covers_until": "2026-12-31"
        }
    })
}

/// The problem's field pointers, in order.
fn pointers(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["pointer"].as_str().expect("pointer").to_owned())
        .collect()
}

#[tokio::test]
async fn an_admin_defines_a_calendar_and_amends_it_into_version_two() {
    let app = spawn_app().await;
    let defined = app
        .created("/v1/business-calendars", &admin(), &shanghai_office())
        .await;
    assert_eq!(defined["code"], "SH-office");
    assert_eq!(defined["version"], 1);
    let id = defined["id"].as_str().expect("id");

    let mut definition = shanghai_office()["definition"].clone();
    definition["holidays"]
        .as_array_mut()
        .expect("holidays")
        .push(json!({"date": "2026-10-02", "name": "National Day"}));
    let response = app
        .http
        .put(app.url(&format!("/v1/business-calendars/{id}")))
        .bearer_auth(admin())
        .json(&definition)
        .send()
        .await
        .expect("request");
    let amended = json_of(response, 200).await;
    assert_eq!(amended["version"], 2);
    assert_eq!(amended["definition"]["holidays"].as_array().map(Vec::len), Some(2));

    // An agent reads it as amended.
    let read = json_of(app.get(&format!("/v1/business-calendars/{id}"), &agent()).await, 200).await;
    assert_eq!(read, amended);

    // The same code again is a conflict, not a second calendar.
    let again = app.post("/v1/business-calendars", &admin(), &shanghai_office()).await;
    problem(again, 409, "rule-violated").await;
}

#[tokio::test]
async fn only_an_admin_may_define_or_amend_a_calendar() {
    let app = spawn_app().await;
    let refused = app
        .post("/v1/business-calendars", &manager("mgr-1"), &shanghai_office())
        .await;
    assert_eq!(refused.status(), 403);

    let defined = app
        .created("/v1/business-calendars", &admin(), &shanghai_office())
        .await;
    let path = format!("/v1/business-calendars/{}", defined["id"].as_str().expect("id"));
    let amend = |token: String, path: String| {
        let body = shanghai_office()["definition"].clone();
        app.http.put(app.url(&path)).bearer_auth(token).json(&body).send()
    };
    let refused = amend(manager("mgr-1"), path).await.expect("request");
    assert_eq!(refused.status(), 403);

    // An admin amending a calendar that does not exist is told so.
    let unknown = "/v1/business-calendars/0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b".to_owned();
    let missing = amend(admin(), unknown).await.expect("request");
    problem(missing, 404, "not-found").await;
}

#[tokio::test]
async fn loading_ships_24x7_and_the_cn_holidays_with_their_make_up_days_once() {
    let app = spawn_app().await;
    assert_eq!(load_calendars(&app).await, ["24x7", "CN"]);
    // A second load finds them and writes nothing.
    let events = app.count_events().await;
    assert!(load_calendars(&app).await.is_empty());
    assert_eq!(app.count_events().await, events);

    let list = json_of(app.get("/v1/business-calendars", &agent()).await, 200).await;
    let codes: Vec<&str> = list["calendars"]
        .as_array()
        .expect("calendars")
        .iter()
        .map(|c| c["code"].as_str().expect("code"))
        .collect();
    assert_eq!(codes, ["24x7", "CN"]);

    let cn = &list["calendars"][1];
    assert_eq!(cn["version"], 1);
    assert_eq!(cn["definition"]["time_zone"], "Asia/Shanghai");
    assert_eq!(cn["definition"]["source"]["package"], "chinesecalendar");
    let dates = |list: &str| -> Vec<String> {
        cn["definition"][list]
            .as_array()
            .expect("dates")
            .iter()
            .map(|d| d["date"].as_str().expect("date").to_owned())
            .collect()
    };
    let holidays = dates("holidays");
    for day in 28..=31 {
        assert!(
            holidays.contains(&format!("2025-01-{day}")),
            "2025-01-{day} is a holiday"
        );
    }
    for day in 1..=4 {
        assert!(
            holidays.contains(&format!("2025-02-0{day}")),
            "2025-02-0{day} is a holiday"
        );
    }
    let workdays = dates("workdays");
    assert!(workdays.contains(&"2025-01-26".to_owned()) && workdays.contains(&"2025-02-08".to_owned()));
}

#[tokio::test]
async fn a_malformed_calendar_is_refused_with_a_pointer_to_each_fault() {
    let app = spawn_app().await;
    let mut malformed = shanghai_office();
    malformed["definition"]["time_zone"] = json!("Asia/Peking");
    malformed["definition"]["weekly_hours"]["monday"] =
        json!([{"start": "09:00", "end": "12:00"}, {"start": "11:30", "end": "18:00"}]);
    malformed["definition"]["weekly_hours"]["tuesday"] = json!([{"start": "18:00", "end": "09:00"}]);
    let refused = app.post("/v1/business-calendars", &admin(), &malformed).await;
    let body = problem(refused, 422, "validation-failed").await;
    assert_eq!(
        pointers(&body),
        [
            "/definition/time_zone",
            "/definition/weekly_hours/monday/1/start",
            "/definition/weekly_hours/tuesday/0/end",
        ]
    );
}
