use crm::Error;

use crate::both_backends;
use crate::support::PASSWORD;

both_backends! {
    async fn the_first_administrator_can_sign_in_with_every_permission(t: TestCrm) {
        let actor = t.crm.sign_in("ADMIN", PASSWORD).await.expect("sign in ignoring case");
        assert_eq!(actor.username, "admin");
        assert_eq!(actor.permissions.len(), crm::Permission::ALL.len());
    }

    async fn a_second_first_administrator_is_refused(t: TestCrm) {
        let err = t.crm.create_first_admin("other", "Other", PASSWORD).await.unwrap_err();
        assert_eq!(err.code(), "users_exist");
        assert!(t.crm.has_users().await.unwrap());
    }

    async fn wrong_password_and_unknown_user_give_the_same_error(t: TestCrm) {
        assert!(matches!(t.crm.sign_in("admin", "wrong password").await, Err(Error::BadCredentials)));
        assert!(matches!(t.crm.sign_in("nobody", PASSWORD).await, Err(Error::BadCredentials)));
    }

    async fn two_first_administrators_at_once_make_exactly_one(t: TestCrm) {
        // A fresh database of this backend, reached by two CRMs (two office computers).
        let other = t.with_settings(crm::Settings::default()).await;
        let mut tx = other.db().write().await.unwrap();
        for table in ["audit_log", "user_roles", "user_permissions", "users"] {
            tx.execute(crm::db::Query::new(format!("delete from {table}"))).await.unwrap();
        }
        tx.commit().await.unwrap();
        let (a, b) = tokio::join!(
            t.crm.create_first_admin("anna", "Anna", PASSWORD),
            other.create_first_admin("boris", "Boris", PASSWORD),
        );
        assert!(a.is_ok() != b.is_ok(), "exactly one wins: {a:?} / {b:?}");
        let loser = if a.is_ok() { b } else { a };
        assert_eq!(loser.unwrap_err().code(), "users_exist");
        assert_eq!(t.count("users").await, 1);
    }

    async fn a_deactivated_user_cannot_sign_in_and_loses_the_session(t: TestCrm) {
        let op = t.user("olga", &["operator"]).await;
        let user = t.crm.get_user(&t.admin, op.user_id).await.unwrap();
        let update = crm::users::UserUpdate {
            full_name: user.full_name.clone(),
            is_active: false,
            roles: user.roles.clone(),
            extra_permissions: vec![],
        };
        t.crm.update_user(&t.admin, user.id, user.version, &update).await.unwrap();
        assert!(matches!(t.crm.sign_in("olga", PASSWORD).await, Err(Error::Deactivated)));
        assert!(matches!(t.crm.refresh(&op).await, Err(Error::Unauthenticated)));
    }

    async fn a_password_change_needs_the_current_one(t: TestCrm) {
        let err = t.crm.change_own_password(&t.admin, "not it", "a new password").await.unwrap_err();
        assert_eq!(err.first_field(), Some("current_password"));
        let err = t.crm.change_own_password(&t.admin, PASSWORD, "short").await.unwrap_err();
        assert_eq!(err.first_field(), Some("new_password"));
        t.crm.change_own_password(&t.admin, PASSWORD, "a new password").await.unwrap();
        t.crm.sign_in("admin", "a new password").await.unwrap();
    }

    async fn a_reset_password_is_one_time_and_opens_nothing_but_choosing_ones_own(t: TestCrm) {
        let olga = t.user("olga", &["operator"]).await;
        t.crm.reset_password(&t.admin, olga.user_id, "one time pass").await.unwrap();
        let olga = t.crm.sign_in("olga", "one time pass").await.unwrap();
        assert!(olga.must_change_password);
        let leads = crm::leads::LeadFilter::default();
        assert!(matches!(t.crm.list_leads(&olga, &leads).await, Err(Error::PasswordChangeRequired)));
        assert!(matches!(t.crm.campaign_options(&olga, "").await, Err(Error::PasswordChangeRequired)));
        t.crm.change_own_password(&olga, "one time pass", "her own password").await.unwrap();
        let olga = t.crm.sign_in("olga", "her own password").await.unwrap();
        assert!(!olga.must_change_password);
        t.crm.list_leads(&olga, &leads).await.expect("her own password opens her work");
        assert!(matches!(t.crm.sign_in("olga", "one time pass").await, Err(Error::BadCredentials)));
    }

    async fn the_last_administrator_cannot_be_removed(t: TestCrm) {
        let me = t.crm.get_user(&t.admin, t.admin.user_id).await.unwrap();
        let update = crm::users::UserUpdate {
            full_name: me.full_name.clone(),
            is_active: true,
            roles: vec!["manager".into()],
            extra_permissions: vec![],
        };
        let err = t.crm.update_user(&t.admin, me.id, me.version, &update).await.unwrap_err();
        assert_eq!(err.code(), "last_admin");
        assert_eq!(t.crm.get_user(&t.admin, me.id).await.unwrap().roles, vec!["administrator"]);
    }

    async fn extra_permissions_add_to_the_roles(t: TestCrm) {
        let op = t.user("oleg", &["operator"]).await;
        assert!(!op.can(crm::Permission::ServicesView));
        let user = t.crm.get_user(&t.admin, op.user_id).await.unwrap();
        let update = crm::users::UserUpdate {
            full_name: user.full_name.clone(),
            is_active: true,
            roles: user.roles.clone(),
            extra_permissions: vec!["services.view".into()],
        };
        t.crm.update_user(&t.admin, user.id, user.version, &update).await.unwrap();
        assert!(t.crm.refresh(&op).await.unwrap().can(crm::Permission::ServicesView));
    }
}

// Sign-in throttling of the local mode. On an office server every sign-in is a connection as
// the user's own role, so failures are the server's to count (see tests/core/office.rs).
crate::local_only! {
    async fn repeated_failures_pause_the_account(t: TestCrm) {
        for _ in 0..5 {
            assert!(matches!(t.crm.sign_in("admin", "nope nope").await, Err(Error::BadCredentials)));
        }
        let err = t.crm.sign_in("admin", PASSWORD).await.unwrap_err();
        assert!(matches!(err, Error::Throttled { seconds } if seconds > 0), "{err:?}");
    }

    async fn an_unknown_username_is_paused_like_a_real_one(t: TestCrm) {
        for name in ["admin", "nobody"] {
            for _ in 0..5 {
                assert!(matches!(t.crm.sign_in(name, "nope nope").await, Err(Error::BadCredentials)));
            }
            let err = t.crm.sign_in(name, PASSWORD).await.unwrap_err();
            assert!(matches!(err, Error::Throttled { seconds } if seconds > 0), "{name}: {err:?}");
        }
    }

    async fn the_pause_is_kept_in_the_database_for_every_computer(t: TestCrm) {
        // Another CRM on the same database: another window, or the CLI, on another computer.
        let other = t.with_settings(crm::Settings::default()).await;
        for (i, name) in ["admin", "nobody", "admin", "nobody", "admin", "nobody", "admin", "nobody"].iter().enumerate() {
            let crm = if i % 4 < 2 { &t.crm } else { &other };
            assert!(matches!(crm.sign_in(name, "nope nope").await, Err(Error::BadCredentials)));
        }
        for name in ["admin", "nobody"] {
            assert!(matches!(t.crm.sign_in(name, "nope nope").await, Err(Error::BadCredentials)), "5th of {name}");
            for crm in [&t.crm, &other] {
                let err = crm.sign_in(name, PASSWORD).await.unwrap_err();
                assert!(matches!(err, Error::Throttled { .. }), "{name}: {err:?}");
            }
        }
    }

    async fn parallel_guesses_are_all_counted(t: TestCrm) {
        let mut guesses = tokio::task::JoinSet::new();
        for _ in 0..32 {
            let crm = t.crm.clone();
            guesses.spawn(async move { crm.sign_in("admin", "nope nope").await });
        }
        let answers = guesses.join_all().await;
        let refused = answers.iter().filter(|a| matches!(a, Err(Error::BadCredentials))).count();
        let throttled = answers.iter().filter(|a| matches!(a, Err(Error::Throttled { .. }))).count();
        assert_eq!((refused, throttled), (5, 27), "only the free allowance is ever checked");
        assert!(matches!(t.crm.sign_in("admin", PASSWORD).await, Err(Error::Throttled { .. })));
    }

    async fn a_successful_sign_in_forgets_the_failures(t: TestCrm) {
        for _ in 0..4 {
            assert!(matches!(t.crm.sign_in("admin", "nope nope").await, Err(Error::BadCredentials)));
        }
        t.crm.sign_in("admin", PASSWORD).await.expect("the fifth try is free");
        for _ in 0..4 {
            assert!(matches!(t.crm.sign_in("admin", "nope nope").await, Err(Error::BadCredentials)));
        }
        t.crm.sign_in("admin", PASSWORD).await.expect("counted afresh");
    }
}
