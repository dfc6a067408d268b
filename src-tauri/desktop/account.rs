//! Signing in and out, the first administrator, the own password, and administration (users,
//! roles and their permissions). Thin adapters: the core checks credentials and permissions.

use serde::Deserialize;
use tauri::State;

use super::error::{Reply, UiError};
use super::state::Desktop;
use crate::domain::id::{RoleId, UserId, Version};
use crate::permission::Actor;
use crate::users::{NewUser, Role, User, UserUpdate};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FirstAdmin {
    pub username: String,
    pub full_name: String,
    pub password: String,
}

/// Creates the first administrator (only while the database has no users) and signs them in.
#[tauri::command(rename_all = "snake_case")]
pub async fn create_first_admin(state: State<'_, Desktop>, input: FirstAdmin) -> Reply<Actor> {
    let (crm, lang) = state.crm().await?;
    let actor = crm
        .create_first_admin(&input.username, &input.full_name, &input.password)
        .await
        .map_err(|e| UiError::from_core(lang, &e))?;
    super::setup::forget_owner_login(&state).await.map_err(|e| UiError::from_core(lang, &e))?;
    state.inner.write().await.actor = Some(actor.clone());
    Ok(actor)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn sign_in(state: State<'_, Desktop>, username: String, password: String) -> Reply<Actor> {
    let (crm, lang) = state.crm().await?;
    let actor = crm.sign_in(&username, &password).await.map_err(|e| UiError::from_core(lang, &e))?;
    state.inner.write().await.actor = Some(actor.clone());
    Ok(actor)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn sign_out(state: State<'_, Desktop>) -> Reply<()> {
    state.inner.write().await.actor = None;
    state.imports.forget();
    // files picked but never saved belong to the session that picked them
    if let Ok(mut uploads) = state.uploads.lock() {
        uploads.forget_all();
    }
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub async fn change_password(state: State<'_, Desktop>, current: String, new: String) -> Reply<()> {
    let s = state.session().await?;
    s.reply(s.crm.change_own_password(&s.actor, &current, &new).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_users(state: State<'_, Desktop>) -> Reply<Vec<User>> {
    let s = state.session().await?;
    s.reply(s.crm.list_users(&s.actor).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn create_user(state: State<'_, Desktop>, input: NewUser) -> Reply<User> {
    let s = state.session().await?;
    s.reply(s.crm.create_user(&s.actor, &input).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn update_user(state: State<'_, Desktop>, id: UserId, version: Version, input: UserUpdate) -> Reply<User> {
    let s = state.session().await?;
    s.reply(s.crm.update_user(&s.actor, id, version, &input).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn reset_password(state: State<'_, Desktop>, id: UserId, password: String) -> Reply<()> {
    let s = state.session().await?;
    s.reply(s.crm.reset_password(&s.actor, id, &password).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_permissions(state: State<'_, Desktop>) -> Reply<Vec<crate::Permission>> {
    let s = state.session().await?;
    s.reply(s.crm.list_permissions(&s.actor).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_roles(state: State<'_, Desktop>) -> Reply<Vec<Role>> {
    let s = state.session().await?;
    s.reply(s.crm.list_roles(&s.actor).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_role_permissions(
    state: State<'_, Desktop>,
    role_id: RoleId,
    version: Version,
    permissions: Vec<String>,
) -> Reply<Role> {
    let s = state.session().await?;
    s.reply(s.crm.set_role_permissions(&s.actor, role_id, version, &permissions).await)
}
