//! Request rate limits kept in the database: fixed windows per key, shared by every process on it.

use warden_core::ops::rate_limits::{self, Limit};
use warden_core::{Error, Millis};

use crate::support::*;

fn per(max: u32, window: Millis) -> Limit {
    Limit { max, window }
}

both!(a_window_admits_max_hits_then_says_when_to_retry, |t| async move {
    let db = &t.db;
    let l = per(3, MINUTE);
    for i in 0..3 {
        rate_limits::hit(db, "ip:1", l, 1_000 + i)
            .await
            .expect("within the budget");
    }
    match rate_limits::hit(db, "ip:1", l, 2_000).await {
        Err(Error::RateLimited { retry_at }) => assert_eq!(retry_at, 1_000 + MINUTE),
        other => panic!("the fourth hit in the window must be refused, got {other:?}"),
    }
    rate_limits::hit(db, "ip:2", l, 2_000)
        .await
        .expect("another key has its own budget");
    rate_limits::hit(db, "ip:1", l, 1_000 + MINUTE)
        .await
        .expect("a new window starts when the old one ends");
});

both!(hit_all_counts_nothing_when_one_key_refuses, |t| async move {
    let db = &t.db;
    let one = per(1, MINUTE);
    let many = per(10, MINUTE);
    rate_limits::hit_all(db, &[("acct:a", one), ("ip:1", many)], 0)
        .await
        .unwrap();
    assert_eq!(
        rate_limits::hit_all(db, &[("acct:a", one), ("ip:1", many)], 1)
            .await
            .unwrap_err()
            .code(),
        "rate_limited"
    );
    for _ in 0..9 {
        rate_limits::hit(db, "ip:1", many, 2)
            .await
            .expect("the refused hit did not spend the IP's budget");
    }
});

both!(pruning_keeps_each_key_to_its_own_window, |t| async move {
    let db = &t.db;
    let long = per(1, 15 * MINUTE);
    let short = per(100, MINUTE);
    rate_limits::hit(db, "verify:acct:a", long, 0).await.unwrap();
    for i in 0..50 {
        rate_limits::hit(db, &format!("ip:{i}"), short, 0).await.unwrap();
    }
    let pruned = rate_limits::prune(db, 2 * MINUTE).await.unwrap();
    assert_eq!(pruned, 50, "the ended one-minute windows are gone");
    assert_eq!(
        rate_limits::hit(db, "verify:acct:a", long, 2 * MINUTE)
            .await
            .unwrap_err()
            .code(),
        "rate_limited",
        "pruning the 1-minute keys did not end the 15-minute window"
    );
    assert_eq!(t.count("SELECT count(*) FROM rate_limit_windows").await, 1);
});

both!(concurrent_hits_from_many_handles_share_one_budget, |t| async move {
    // Separate handles (separate pools), as separate server processes would have.
    let mut handles = Vec::new();
    for _ in 0..3 {
        handles.push(warden_core::Db::connect(&t.url, false).await.expect("another handle"));
    }
    let l = per(10, MINUTE);
    let calls: Vec<_> = (0..30)
        .map(|i| {
            let db = handles[i % 3].clone();
            tokio::spawn(async move { rate_limits::hit(&db, "sign_in:ip:203.0.113.9", l, 5_000).await })
        })
        .collect();
    let mut admitted = 0;
    for c in calls {
        match c.await.unwrap() {
            Ok(()) => admitted += 1,
            Err(e) => assert_eq!(e.code(), "rate_limited"),
        }
    }
    assert_eq!(
        admitted, 10,
        "thirty hits through three handles: exactly the budget is admitted"
    );
});
