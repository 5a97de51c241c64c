//! The admin API: user search, filters, sorting and paging, the user page, and the admin commands'
//! permissions, reasons and errors.

use std::collections::HashSet;

use warden_core::model::authz::Admin;
use warden_core::model::vocab::SessionStatus;
use warden_core::ops::admin::{self, UserQuery, UserSort};
use warden_core::ops::auth;
use warden_core::ops::policy as policy_store;
use warden_core::ops::sessions::ClientInfo;
use warden_core::{Role, Secret};

use crate::support::*;

async fn emails(t: &T, q: UserQuery) -> Vec<String> {
    let admin = t.admin_actor().await;
    let q = UserQuery {
        limit: if q.limit == 0 { 500 } else { q.limit },
        ..q
    };
    let page = admin::users_page(&t.db, &admin, &q, t.now())
        .await
        .unwrap_or_else(|e| panic!("{q:?}: {e}"));
    page.users.into_iter().map(|u| u.user.email).collect()
}

fn search(s: &str) -> UserQuery {
    UserQuery {
        search: Some(s.into()),
        ..Default::default()
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

both!(users_search_by_email_prefix_and_name_word_prefix, |t| async move {
    t.admin_actor().await;
    t.user_named("ana@example.com", "Ana Lima", Role::User).await;
    t.user_named("anabel@example.com", "Anabel Souza", Role::User).await;
    t.user_named("bob@example.com", "Roberto Lopez", Role::User).await;
    t.user_named("zed@example.org", "Zed 50%_off", Role::User).await;
    t.user_named("mary@example.net", "Ana Maria Lima", Role::User).await;
    // Twice: by the search terms (rare prefixes), and row by row (how common prefixes are searched).
    for threshold in [2_000, 0] {
        warden_core::store::users::set_dense_search_threshold(threshold);
        search_cases(&t).await;
    }
    warden_core::store::users::set_dense_search_threshold(2_000);
});

async fn search_cases(t: &T) {
    assert_eq!(
        sorted(emails(t, search("ana")).await),
        vec!["ana@example.com", "anabel@example.com", "mary@example.net"],
        "email or name prefix"
    );
    assert_eq!(
        sorted(emails(t, search("maria l")).await),
        vec!["mary@example.net"],
        "from a later word on"
    );
    assert_eq!(
        sorted(emails(t, search("lima")).await),
        vec!["ana@example.com", "mary@example.net"],
        "the last word"
    );
    assert!(
        emails(t, search("lima ana")).await.is_empty(),
        "words in another order do not match"
    );
    assert_eq!(
        emails(t, search("ANAB")).await,
        vec!["anabel@example.com"],
        "case-insensitive"
    );
    assert_eq!(
        emails(t, search("lop")).await,
        vec!["bob@example.com"],
        "prefix of a later word of the name"
    );
    assert_eq!(
        emails(t, search("robert")).await,
        vec!["bob@example.com"],
        "prefix of the name"
    );
    assert_eq!(emails(t, search("souza")).await, vec!["anabel@example.com"]);
    assert!(
        emails(t, search("example")).await.is_empty(),
        "the middle of an email is not a prefix"
    );
    assert!(
        emails(t, search("bert")).await.is_empty(),
        "the middle of a word is not a prefix"
    );
    assert!(emails(t, search("%")).await.is_empty(), "LIKE wildcards are literal");
    assert!(emails(t, search("_")).await.is_empty(), "LIKE wildcards are literal");
    assert_eq!(
        emails(t, search("50%_")).await,
        vec!["zed@example.org"],
        "a literal % and _ match themselves"
    );
    assert_eq!(
        emails(t, search("  ")).await.len(),
        6,
        "a blank search matches everyone"
    );
}

both!(users_filters_locked_totp_verified_and_role, |t| async move {
    t.admin_actor().await;
    t.set_policy(&[("lockout.threshold", "1")]).await;
    t.user("locked@example.com", Role::User).await;
    let totp_user = t.user("totp@example.com", Role::User).await;
    t.user("helper@example.com", Role::Support).await;
    auth::sign_up(
        &t.db,
        t.now(),
        &auth::NewAccount {
            email: "new@example.com",
            name: "New Person",
            password: &Secret::new(PASSWORD),
            role: Role::User,
            verified: false,
            ip: None,
        },
    )
    .await
    .unwrap();
    let _ = t
        .try_sign_in("locked@example.com", WRONG_PASSWORD, &ClientInfo::default())
        .await;
    crate::totp::enrol(&t, totp_user).await;

    assert_eq!(
        emails(
            &t,
            UserQuery {
                locked: Some(true),
                ..Default::default()
            }
        )
        .await,
        vec!["locked@example.com"],
        "locked"
    );
    assert_eq!(
        emails(
            &t,
            UserQuery {
                totp: Some(true),
                ..Default::default()
            }
        )
        .await,
        vec!["totp@example.com"],
        "totp on"
    );
    assert!(!emails(
        &t,
        UserQuery {
            totp: Some(false),
            ..Default::default()
        }
    )
    .await
    .contains(&"totp@example.com".into()));
    assert_eq!(
        emails(
            &t,
            UserQuery {
                verified: Some(false),
                ..Default::default()
            }
        )
        .await,
        vec!["new@example.com"],
        "unverified"
    );
    assert_eq!(
        emails(
            &t,
            UserQuery {
                verified: Some(true),
                ..Default::default()
            }
        )
        .await
        .len(),
        4,
        "verified"
    );
    assert_eq!(
        emails(
            &t,
            UserQuery {
                role: Some(Role::Support),
                ..Default::default()
            }
        )
        .await,
        vec!["helper@example.com"]
    );
    assert_eq!(
        emails(
            &t,
            UserQuery {
                role: Some(Role::SecurityAdmin),
                ..Default::default()
            }
        )
        .await,
        vec!["root@example.com"]
    );
    // A timed lock that has run out is no longer `locked`.
    t.advance(15 * MINUTE);
    assert!(
        emails(
            &t,
            UserQuery {
                locked: Some(true),
                ..Default::default()
            }
        )
        .await
        .is_empty(),
        "an expired lock is not a lock"
    );
});

// Bug: admin::users_page renders `locked: Some(false)` as NOT (locked_permanently = TRUE OR locked_until > now);
// for a never-locked user locked_until is NULL, so the condition is NULL and the user is filtered out.
both!(users_filter_not_locked_includes_never_locked_users, |t| async move {
    t.admin_actor().await;
    t.set_policy(&[("lockout.threshold", "1")]).await;
    t.user("locked@example.com", Role::User).await;
    t.user("fine@example.com", Role::User).await;
    let _ = t
        .try_sign_in("locked@example.com", WRONG_PASSWORD, &ClientInfo::default())
        .await;
    assert_eq!(
        sorted(
            emails(
                &t,
                UserQuery {
                    locked: Some(false),
                    ..Default::default()
                }
            )
            .await
        ),
        vec!["fine@example.com", "root@example.com"],
        "locked=false must list every user who is not locked, including those never locked"
    );
});

/// Seven users: some created in the same millisecond (ties broken by id), some active, some never.
async fn population(t: &T) -> Vec<String> {
    t.admin_actor().await;
    let mut all = vec!["root@example.com".to_string()];
    for i in 0..7 {
        if i % 3 != 0 {
            t.advance(SECOND);
        }
        let email = format!("user{i}@example.com");
        t.user(&email, Role::User).await;
        all.push(email);
    }
    for i in [4, 1, 6] {
        t.advance(MINUTE);
        t.sign_in(&format!("user{i}@example.com")).await;
    }
    all
}

both!(users_sort_by_created_and_last_active, |t| async move {
    population(&t).await;
    let admin = t.admin_actor().await;
    let q = UserQuery {
        sort: UserSort::Created,
        limit: 500,
        ..Default::default()
    };
    let page = admin::users_page(&t.db, &admin, &q, t.now()).await.unwrap();
    let keys: Vec<(i64, uuid::Uuid)> = page.users.iter().map(|u| (u.user.created_at, u.user.id)).collect();
    let mut expected = keys.clone();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(keys, expected, "newest accounts first, ties by id descending");
    assert_eq!(page.users.len(), 8);

    let active = emails(
        &t,
        UserQuery {
            sort: UserSort::LastActive,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        &active[..3],
        &["user6@example.com", "user1@example.com", "user4@example.com"],
        "most recently active first"
    );
    assert_eq!(active.len(), 8, "never-active users are listed too, last");
    let users = admin::users_page(
        &t.db,
        &admin,
        &UserQuery {
            sort: UserSort::LastActive,
            limit: 500,
            ..Default::default()
        },
        t.now(),
    )
    .await
    .unwrap()
    .users;
    assert!(
        users[3..].iter().all(|u| u.user.last_active_at.is_none()),
        "never-active users come after all active ones"
    );
    assert_eq!(users[0].active_sessions, 1, "the summary counts live sessions");
});

both!(users_keyset_paging_covers_everyone_once_in_order, |t| async move {
    population(&t).await;
    let admin = t.admin_actor().await;
    for sort in [UserSort::Created, UserSort::LastActive] {
        let all = emails(
            &t,
            UserQuery {
                sort,
                ..Default::default()
            },
        )
        .await;
        let mut paged = Vec::new();
        let mut after = None;
        let mut pages = 0;
        loop {
            let q = UserQuery {
                sort,
                after: after.clone(),
                limit: 2,
                ..Default::default()
            };
            let page = admin::users_page(&t.db, &admin, &q, t.now()).await.unwrap();
            assert!(page.users.len() <= 2);
            paged.extend(page.users.into_iter().map(|u| u.user.email));
            pages += 1;
            assert!(pages < 20, "paging must end");
            match page.next_cursor {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        assert_eq!(
            paged, all,
            "pages of 2 ({sort:?}) list every user exactly once, in the order of one big page"
        );
        assert_eq!(paged.iter().collect::<HashSet<_>>().len(), 8);
    }
});

both!(users_page_refuses_a_garbage_cursor_and_bad_limits, |t| async move {
    let admin = t.admin_actor().await;
    for bad in ["garbage", "123", "x:y", "1:not-a-uuid", ""] {
        let q = UserQuery {
            after: Some(bad.into()),
            limit: 10,
            ..Default::default()
        };
        let e = assert_code(
            admin::users_page(&t.db, &admin, &q, t.now()).await,
            "invalid_input",
            "a cursor we never issued",
        );
        assert_eq!(e.field(), Some("after"), "the error names `after` for {bad:?}");
    }
    for limit in [0, 501] {
        let q = UserQuery {
            limit,
            ..Default::default()
        };
        let e = assert_code(
            admin::users_page(&t.db, &admin, &q, t.now()).await,
            "invalid_input",
            "page size out of range",
        );
        assert_eq!(e.field(), Some("limit"));
    }
    let uid = t.user("ana@example.com", Role::User).await;
    let user = t.staff_for(uid, "ana@example.com", Role::User);
    assert_code(
        admin::users_page(
            &t.db,
            &user,
            &UserQuery {
                limit: 10,
                ..Default::default()
            },
            t.now(),
        )
        .await,
        "forbidden",
        "a user may not list users",
    );
});

both!(
    user_detail_shows_sessions_with_status_and_recent_events,
    |t| async move {
        let admin = t.admin_actor().await;
        let uid = t.user("ana@example.com", Role::User).await;
        let (idle, _) = t.sign_in("ana@example.com").await;
        let (revoked, _) = t.sign_in("ana@example.com").await;
        admin::revoke_session(&t.db, &admin, t.now(), revoked.id, "test")
            .await
            .unwrap();
        t.advance(3 * DAY + MINUTE);
        let (active, _) = t.sign_in("ana@example.com").await;
        let detail = admin::user_detail(&t.db, &admin, "ana@example.com", t.now())
            .await
            .unwrap();
        assert_eq!(detail.user.id, uid);
        let status_of = |id| detail.sessions.iter().find(|s| s.session.id == id).map(|s| s.status);
        assert_eq!(status_of(active.id), Some(SessionStatus::Active));
        assert_eq!(status_of(revoked.id), Some(SessionStatus::Revoked));
        assert_eq!(
            status_of(idle.id),
            Some(SessionStatus::Idle),
            "an unused session shows as idle before anyone validates it"
        );
        assert_eq!(detail.sessions[0].session.id, active.id, "newest session first");
        let actions: Vec<&str> = detail.recent_activity.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions[0], "auth.signed_in", "newest event first: {actions:?}");
        assert!(
            actions.contains(&"session.revoked") && actions.contains(&"user.created"),
            "{actions:?}"
        );
        assert!(
            detail.recent_activity.iter().all(|e| e.target_user_id == Some(uid)),
            "only events about this user"
        );
        let by_id = admin::user_detail(&t.db, &admin, &uid.to_string(), t.now())
            .await
            .unwrap();
        assert_eq!(by_id.user.email, "ana@example.com", "a user is found by id too");
        let support = t.support_actor().await;
        admin::user_detail(&t.db, &support, "ana@example.com", t.now())
            .await
            .expect("support may view users");
    }
);

both!(revoke_user_sessions_ends_all_and_audits_the_count, |t| async move {
    let admin = t.admin_actor().await;
    let uid = t.user("ana@example.com", Role::User).await;
    t.user("bob@example.com", Role::User).await;
    let mut tokens = Vec::new();
    for _ in 0..3 {
        tokens.push(t.sign_in("ana@example.com").await.1);
    }
    let (_, bob) = t.sign_in("bob@example.com").await;
    let n = admin::revoke_user_sessions(&t.db, &admin, t.now(), "ana@example.com", "account compromised")
        .await
        .unwrap();
    assert_eq!(n, 3, "all three sessions are ended");
    for token in &tokens {
        assert_code(
            t.validate(token).await,
            "unauthenticated",
            "every session of the user ends",
        );
    }
    t.validate(&bob).await.expect("other users' sessions are untouched");
    let ev = t.audit_action("user.sessions_revoked").await;
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].reason.as_deref(), Some("account compromised"));
    assert_eq!(ev[0].target_user_id, Some(uid));
    assert!(
        ev[0].metadata.contains("\"count\":3"),
        "the count is audited: {}",
        ev[0].metadata
    );
    let support = t.support_actor().await;
    assert_eq!(
        admin::revoke_user_sessions(&t.db, &support, t.now(), "ana@example.com", "again")
            .await
            .unwrap(),
        0,
        "support may do it too; nothing is left to end"
    );
});

both!(admin_commands_require_a_reason, |t| async move {
    let admin = t.admin_actor().await;
    let uid = t.user("ana@example.com", Role::User).await;
    let (s, token) = t.sign_in("ana@example.com").await;
    let audit_before = t.count("SELECT count(*) FROM audit_events").await;
    for reason in ["", "   "] {
        let results = [
            admin::revoke_session(&t.db, &admin, t.now(), s.id, reason)
                .await
                .map(|_| ()),
            admin::revoke_user_sessions(&t.db, &admin, t.now(), "ana@example.com", reason)
                .await
                .map(|_| ()),
            admin::unlock_user(&t.db, &admin, t.now(), "ana@example.com", reason)
                .await
                .map(|_| ()),
            admin::reset_totp(&t.db, &admin, t.now(), "ana@example.com", reason)
                .await
                .map(|_| ()),
        ];
        for r in results {
            let e = assert_code(r, "invalid_input", "an admin command without a reason");
            assert_eq!(e.field(), Some("reason"), "the error names the reason");
        }
    }
    let long = "x".repeat(501);
    let e = assert_code(
        admin::unlock_user(&t.db, &admin, t.now(), "ana@example.com", &long).await,
        "invalid_input",
        "",
    );
    assert_eq!(e.field(), Some("reason"));
    t.validate(&token).await.expect("nothing was revoked");
    assert_eq!(
        t.count("SELECT count(*) FROM audit_events").await,
        audit_before,
        "nothing was audited"
    );
    let _ = uid;
});

both!(support_cannot_change_the_policy, |t| async move {
    let support = t.support_actor().await;
    let (version, _) = policy_store::current(&t.db).await.unwrap();
    assert_code(
        policy_store::set(
            &t.db,
            &Admin::for_tests(support.actor().clone()),
            t.now(),
            &[("lockout.threshold".into(), "3".into())],
            "tighten",
        )
        .await,
        "forbidden",
        "support may not change the policy",
    );
    assert_eq!(
        policy_store::current(&t.db).await.unwrap().0,
        version,
        "no version was saved"
    );
    assert_code(
        admin::revoke_session(
            &t.db,
            &t.staff_for(uuid::Uuid::now_v7(), "x@example.com", Role::User),
            t.now(),
            uuid::Uuid::now_v7(),
            "r",
        )
        .await,
        "forbidden",
        "a user may not revoke sessions through the admin API",
    );
});

both!(unknown_user_is_user_not_found, |t| async move {
    let admin = t.admin_actor().await;
    for ident in ["ghost@example.com", &uuid::Uuid::now_v7().to_string()] {
        assert_code(
            admin::unlock_user(&t.db, &admin, t.now(), ident, "r").await,
            "user_not_found",
            "unlock",
        );
        assert_code(
            admin::revoke_user_sessions(&t.db, &admin, t.now(), ident, "r").await,
            "user_not_found",
            "revoke all",
        );
        assert_code(
            admin::reset_totp(&t.db, &admin, t.now(), ident, "r").await,
            "user_not_found",
            "reset two-factor",
        );
        assert_code(
            admin::user_detail(&t.db, &admin, ident, t.now()).await,
            "user_not_found",
            "detail",
        );
    }
});

// Privileged actions need an authentication newer than privileged.reauth_after (15m by default); a
// re-authentication on the live session (password, plus a code with two-factor) makes them possible again.
both!(
    stale_operators_must_reauthenticate_before_privileged_actions,
    |t| async move {
        let uid = t.user("ana@example.com", Role::User).await;
        let support_id = t.user("desk@example.com", Role::Support).await;
        let (_, token) = t.sign_in("desk@example.com").await;
        t.advance(16 * MINUTE);
        let me = t
            .validate(&token)
            .await
            .expect("the support session is still live (idle 30m)");
        let stale = me.staff().unwrap();
        for (what, code) in [
            (
                "unlock",
                admin::unlock_user(&t.db, &stale, t.now(), "ana@example.com", "x")
                    .await
                    .map(|_| ())
                    .unwrap_err()
                    .code(),
            ),
            (
                "reset",
                admin::reset_totp(&t.db, &stale, t.now(), "ana@example.com", "x")
                    .await
                    .map(|_| ())
                    .unwrap_err()
                    .code(),
            ),
            (
                "revoke all",
                admin::revoke_user_sessions(&t.db, &stale, t.now(), "ana@example.com", "x")
                    .await
                    .map(|_| ())
                    .unwrap_err()
                    .code(),
            ),
        ] {
            assert_eq!(
                code, "reauth_required",
                "{what} with a 16-minute-old authentication must ask for re-authentication"
            );
        }
        let wrong = auth::reauthenticate(
            &t.db,
            t.now(),
            Some(&t.key),
            &me,
            &Secret::new(WRONG_PASSWORD),
            None,
            &ClientInfo::default(),
        )
        .await;
        assert_eq!(wrong.unwrap_err().code(), "invalid_credentials");
        let session = auth::reauthenticate(
            &t.db,
            t.now(),
            Some(&t.key),
            &me,
            &Secret::new(PASSWORD),
            None,
            &ClientInfo::default(),
        )
        .await
        .expect("the right password re-authenticates");
        assert_eq!(
            session.authenticated_at,
            t.now(),
            "the session's authentication time moves to now"
        );
        let fresh = t.validate(&token).await.unwrap().staff().unwrap();
        admin::unlock_user(&t.db, &fresh, t.now(), "ana@example.com", "caller verified")
            .await
            .expect("fresh again");
        assert_eq!(
            t.audit_action("auth.reauthenticated").await.len(),
            1,
            "re-authentication is audited"
        );
        let _ = (uid, support_id);
    }
);

both!(
    only_a_staff_session_yields_a_staff_capability_and_only_an_admin_session_an_admin_one,
    |t| async move {
        use warden_core::model::authz::Permission;
        t.user("ana@example.com", Role::User).await;
        t.user("desk@example.com", Role::Support).await;
        t.user("root@example.com", Role::SecurityAdmin).await;
        let session_of = |email: &'static str| {
            let t = &t;
            async move {
                let (_, token) = t.sign_in(email).await;
                t.validate(&token).await.expect("a live session")
            }
        };
        let user = session_of("ana@example.com").await;
        let e = err(user.staff(), "a user's session is no staff capability");
        assert_eq!(e.code(), "forbidden");
        let desk = session_of("desk@example.com").await;
        let staff = desk.staff().expect("support is staff");
        admin::unlock_user(&t.db, &staff, t.now(), "ana@example.com", "asked by phone")
            .await
            .expect("support unlocks a user through its capability");
        let e = err(
            staff.admin_for(Permission::ChangePolicy),
            "support's capability is no admin capability",
        );
        assert!(e.to_string().contains("support role may not change the policy"), "{e}");
        let root = session_of("root@example.com").await;
        let admin = root
            .admin_for(Permission::ChangePolicy)
            .expect("a security admin's session");
        assert_eq!(
            admin.actor().label,
            "root@example.com",
            "the capability acts as its session's user"
        );
        assert_eq!(admin.actor().session_id, Some(root.session.id));
    }
);
