//! Runs the real app binary in a virtual display and drives its webview over WebDriver.
//!
//! - Xvfb: one per test binary, on the first free display from :90 up, stopped at exit.
//! - tauri-driver: one per app instance, on free ports, found via `CRM_TAURI_DRIVER`, then
//!   `target/tools/bin/tauri-driver`, then `PATH`; stopped with SIGTERM (SIGKILL would leave
//!   WebKitWebDriver running).
//! - Each app instance gets its own temporary `CRM_CONFIG_DIR` and `CRM_DATA_DIR`, so tests never
//!   touch the real user's files; `CRM_DATABASE_URL` is removed unless the test sets it.
//! - Screenshots go to `target/screenshots/`, and with `CRM_UPDATE_SCREENSHOTS=1` also to
//!   `.github/screenshots/` for the README.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------- the display

static DISPLAY: OnceLock<String> = OnceLock::new();
static XVFB: Mutex<Option<Child>> = Mutex::new(None);

extern "C" fn stop_xvfb() {
    if let Some(mut child) = XVFB.lock().ok().and_then(|mut x| x.take()) {
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let _ = child.wait();
    }
}

/// Starts Xvfb once on a free display and returns `:N`.
fn display() -> &'static str {
    DISPLAY.get_or_init(|| {
        for n in 90..200 {
            let lock = format!("/tmp/.X{n}-lock");
            let socket = format!("/tmp/.X11-unix/X{n}");
            if Path::new(&lock).exists() || Path::new(&socket).exists() {
                continue;
            }
            let name = format!(":{n}");
            let child = Command::new("Xvfb")
                .args([name.as_str(), "-screen", "0", "1366x768x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start Xvfb ({e}): install it (`apt-get install xvfb`) or run `cargo xtask test`")
                });
            let started = Instant::now();
            while !Path::new(&socket).exists() {
                assert!(started.elapsed() < Duration::from_secs(10), "Xvfb {name} did not start");
                std::thread::sleep(Duration::from_millis(50));
            }
            *XVFB.lock().expect("Xvfb slot") = Some(child);
            unsafe { libc::atexit(stop_xvfb) };
            return name;
        }
        panic!("no free X display between :90 and :199");
    })
}

// ---------------------------------------------------------------- tauri-driver

fn tauri_driver() -> PathBuf {
    if let Some(path) = std::env::var_os("CRM_TAURI_DRIVER") {
        return PathBuf::from(path);
    }
    let local = root().join("target/tools/bin/tauri-driver");
    if local.exists() {
        return local;
    }
    if let Some(found) = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join("tauri-driver")).find(|p| p.exists()))
    {
        return found;
    }
    panic!(
        "tauri-driver not found (CRM_TAURI_DRIVER, target/tools/bin, PATH): run `cargo xtask test`, which installs it, \
         or `cargo install tauri-driver --version ^2 --locked`"
    );
}

/// A running tauri-driver, stopped when dropped (also when a test fails half-way) with SIGTERM,
/// never SIGKILL: tauri-driver then stops WebKitWebDriver and the app too.
struct Driver(Option<Child>);

impl Driver {
    fn stop(&mut self) {
        if let Some(mut driver) = self.0.take() {
            unsafe { libc::kill(driver.id() as i32, libc::SIGTERM) };
            let _ = driver.wait();
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("port").port()
}

/// One running app: its tauri-driver, WebDriver session and private directories.
pub struct App {
    pub client: Client,
    driver: Driver,
    pub dir: tempfile::TempDir,
    prefix: String,
}

/// How to start an app instance.
#[derive(Default, Clone)]
pub struct Launch {
    /// `CRM_DATABASE_URL` for the app (none: the first-run screen decides).
    pub database_url: Option<String>,
    /// The file the "choose a file" command takes instead of opening the native dialog.
    pub pick_file: Option<PathBuf>,
    /// The file the office form's "certificate authority" takes instead of the native dialog.
    pub pick_ca: Option<PathBuf>,
    /// The table the import wizard's "choose a file" takes instead of the native dialog.
    pub pick_import: Option<PathBuf>,
    /// `CRM_ROLE_PREFIX` of the app: a second office database on the test server needs its own.
    pub role_prefix: Option<String>,
    /// `LANG` of the app.
    pub lang: &'static str,
}

impl App {
    /// Starts the app binary with private config and data directories in `dir` (reused when
    /// given, so a second start sees the first one's settings).
    pub async fn start(prefix: &str, launch: Launch, dir: Option<tempfile::TempDir>) -> App {
        let dir = dir.unwrap_or_else(|| tempfile::tempdir().expect("temp dir"));
        let (port, native_port) = (free_port(), free_port());
        let mut command = Command::new(tauri_driver());
        command
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("DISPLAY", display())
            .env("CRM_CONFIG_DIR", dir.path().join("config"))
            .env("CRM_DATA_DIR", dir.path().join("data"))
            .env("LANG", if launch.lang.is_empty() { "ru_RU.UTF-8" } else { launch.lang })
            .env_remove("CRM_DATABASE_URL")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("CRM_E2E_PICK_FILE")
            .env_remove("CRM_E2E_PICK_CA")
            .env_remove("CRM_E2E_PICK_IMPORT")
            .env_remove("CRM_ROLE_PREFIX")
            .env_remove("WAYLAND_DISPLAY")
            .env("CRM_E2E_SAVE_DIR", dir.path().join("saved"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(url) = &launch.database_url {
            command.env("CRM_DATABASE_URL", url);
        }
        if let Some(file) = &launch.pick_ca {
            command.env("CRM_E2E_PICK_CA", file);
        }
        if let Some(file) = &launch.pick_file {
            command.env("CRM_E2E_PICK_FILE", file);
        }
        if let Some(prefix) = &launch.role_prefix {
            command.env("CRM_ROLE_PREFIX", prefix);
        }
        if let Some(file) = &launch.pick_import {
            command.env("CRM_E2E_PICK_IMPORT", file);
        }
        let driver = Driver(Some(command.spawn().expect("start tauri-driver")));
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(15), "tauri-driver did not listen on {port}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("wry"));
        capabilities.insert("tauri:options".into(), json!({ "application": env!("CARGO_BIN_EXE_crm") }));
        // tauri-driver listens before WebKitWebDriver behind it does: retry the first session.
        let mut attempt = 0;
        let client = loop {
            attempt += 1;
            let mut builder = ClientBuilder::rustls().expect("TLS roots");
            builder.capabilities(capabilities.clone());
            let url = format!("http://127.0.0.1:{port}");
            let connect = builder.connect(&url);
            match tokio::time::timeout(Duration::from_secs(30), connect).await {
                Ok(Ok(client)) => break client,
                Ok(Err(e)) if attempt < 10 => {
                    eprintln!("WebDriver session not ready ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                outcome => panic!(
                    "no WebDriver session with {} ({outcome:?}): is it built with the `desktop` feature? \
                     (a concurrent `cargo build --no-default-features` replaces it)",
                    env!("CARGO_BIN_EXE_crm")
                ),
            }
        };
        let app = App { client, driver, dir, prefix: prefix.to_owned() };
        app.wait("#app:not(.boot)").await;
        app
    }

    /// Ends the session and stops tauri-driver with SIGTERM; returns the directories for a
    /// restart.
    pub async fn stop(mut self) -> tempfile::TempDir {
        let _ = self.client.clone().close().await;
        self.driver.stop();
        let dir = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, dir)
    }

    // ------------------------------------------------------------ finding and acting

    pub async fn wait(&self, css: &str) -> Element {
        match self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => {
                self.screenshot(&format!("failed-{}", css.replace(|c: char| !c.is_alphanumeric(), "_"))).await;
                let body = self.client.source().await.unwrap_or_default();
                panic!("no element {css}: {e}\npage: {}", &body[..body.len().min(4000)]);
            }
        }
    }

    /// Waits until `css` matches an element whose text contains `text`.
    pub async fn wait_text(&self, css: &str, text: &str) -> Element {
        let started = Instant::now();
        loop {
            for element in self.client.find_all(Locator::Css(css)).await.unwrap_or_default() {
                if element.text().await.unwrap_or_default().contains(text) {
                    return element;
                }
            }
            if started.elapsed() > WAIT {
                let seen = self.texts(css).await;
                self.screenshot("failed-wait-text").await;
                panic!("no {css} containing {text:?}; seen: {seen:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn gone(&self, css: &str) {
        let started = Instant::now();
        while !self.client.find_all(Locator::Css(css)).await.unwrap_or_default().is_empty() {
            assert!(started.elapsed() < WAIT, "{css} is still there");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await.unwrap_or_default() {
            out.push(element.text().await.unwrap_or_default());
        }
        out
    }

    /// The value of `attribute` of every element matching `css`, in document order.
    pub async fn attributes(&self, css: &str, attribute: &str) -> Vec<String> {
        let mut out = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await.unwrap_or_default() {
            out.push(element.attr(attribute).await.ok().flatten().unwrap_or_default());
        }
        out
    }

    /// Clicks the element at `css`. Found again when it went away between finding and clicking
    /// (a list redrawn by an answer arriving meanwhile), as a person's click lands on what is
    /// there; one that keeps failing fails the test.
    pub async fn click(&self, css: &str) {
        let started = Instant::now();
        loop {
            match self.wait(css).await.click().await {
                Ok(()) => return,
                Err(e) if started.elapsed() > WAIT => panic!("click {css}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Moves the mouse over the element at `css` (hover).
    pub async fn hover(&self, css: &str) {
        use fantoccini::actions::{InputSource, MouseActions, PointerAction};
        let element = self.wait(css).await;
        let mouse = MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
            element,
            duration: Some(Duration::from_millis(50)),
            x: 0.0,
            y: 0.0,
        });
        self.client.perform_actions(mouse).await.unwrap_or_else(|e| panic!("hover {css}: {e}"));
    }

    /// Drags the element at `from` onto the element at `to` with the mouse, in small steps as a
    /// hand would, so that pointer events fire along the way.
    pub async fn drag(&self, from: &str, to: &str) {
        use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
        let source = self.wait(from).await;
        let target = self.wait(to).await;
        let step = Some(Duration::from_millis(50));
        let mouse = MouseActions::new("mouse".into())
            .then(PointerAction::MoveToElement { element: source, duration: None, x: 0.0, y: 0.0 })
            .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
            .then(PointerAction::MoveBy { duration: step, x: 12.0, y: 12.0 })
            .then(PointerAction::MoveBy { duration: step, x: 24.0, y: 12.0 })
            .then(PointerAction::MoveToElement { element: target.clone(), duration: step, x: 0.0, y: -10.0 })
            .then(PointerAction::MoveToElement { element: target, duration: step, x: 0.0, y: 0.0 })
            .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
        self.client.perform_actions(mouse).await.unwrap_or_else(|e| panic!("drag {from} to {to}: {e}"));
    }

    /// Replaces the value of an input.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.wait(css).await;
        element.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e}"));
        element.send_keys(text).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Chooses the option of a select whose text contains `label` (as a user would: the value
    /// changes and `change` fires), or, in a picker that searches, types `label` and picks what
    /// the core found.
    pub async fn select(&self, css: &str, label: &str) {
        self.wait(css).await;
        // a picker that searches (an input): type the label, then pick the option the core found
        let script = "const [css, label] = arguments;
            const select = document.querySelector(css);
            if (select.tagName === 'INPUT') {
              const list = document.getElementById(select.getAttribute('aria-controls'));
              const found = [...list.querySelectorAll('[role=option]')].find((o) => o.textContent.includes(label));
              if (!found || list.hidden) {
                if (select.dataset.e2eTyped !== label) {
                  select.dataset.e2eTyped = label;
                  select.focus();
                  select.value = label;
                  select.dispatchEvent(new Event('input', { bubbles: true }));
                }
                return false;
              }
              delete select.dataset.e2eTyped;
              found.dispatchEvent(new MouseEvent('mousedown', { bubbles: true, cancelable: true }));
              return true;
            }
            const option = [...select.options].find((o) => o.textContent.includes(label));
            if (!option) return false;
            select.value = option.value;
            select.dispatchEvent(new Event('change', { bubbles: true }));
            return true;";
        let started = Instant::now();
        while self.client.execute(script, vec![json!(css), json!(label)]).await.expect("select") != json!(true) {
            if started.elapsed() >= WAIT {
                self.screenshot("failed-select").await;
                panic!("{css} has no option {label:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // a list filtered by the choice shows its rows once read: what follows finds those
        self.gone("[aria-busy=true]").await;
    }

    /// Opens a page of the signed-in window.
    pub async fn go(&self, page: &str) {
        self.click(&format!("a.nav-link[data-page={page}]")).await;
        self.wait(&format!("#page[data-page={page}]")).await;
    }

    /// Calls a command directly, as a page's script would; returns Ok(value) or Err(error).
    pub async fn invoke(&self, command: &str, args: Value) -> Result<Value, Value> {
        let script = "const [cmd, args, done] = arguments;
            window.__TAURI__.core.invoke(cmd, args).then((ok) => done({ ok }), (err) => done({ err }));";
        let answer = self.client.execute_async(script, vec![json!(command), args]).await.expect("invoke");
        match answer.get("err") {
            Some(err) => Err(err.clone()),
            None => Ok(answer.get("ok").cloned().unwrap_or(Value::Null)),
        }
    }

    /// Asserts the page fits the window sideways: nothing scrolls or is cut off at the right
    /// (the window opens at 1280 px, inside a 1366x768 screen).
    pub async fn assert_fits(&self, what: &str) {
        let script = "const w = document.documentElement.clientWidth, out = [];
            const name = (el) => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().replace(/\\s+/g, '.') : '')
              + (el.dataset.col ? `[${el.dataset.col}]` : '')
              + (el.querySelector('table[data-list]') ? `(${el.querySelector('table[data-list]').dataset.list})` : '');
            if (document.documentElement.scrollWidth > w) out.push(`page ${document.documentElement.scrollWidth} > ${w}`);
            for (const el of document.querySelectorAll('body *')) {
              const r = el.getBoundingClientRect();
              if (r.width === 0 || r.height === 0 || el.closest('dialog:not([open])')) continue;
              const s = getComputedStyle(el);
              if (r.right > w + 1 && s.position !== 'fixed') out.push(`${name(el)} ends at ${Math.round(r.right)} > ${w}`);
              if (['auto', 'scroll'].includes(s.overflowX) && el.tagName !== 'TEXTAREA' && el.scrollWidth > el.clientWidth + 1)
                out.push(`${name(el)} scrolls sideways (${el.scrollWidth} > ${el.clientWidth})`);
            }
            return out.slice(0, 8);";
        let found = self.client.execute(script, vec![]).await.expect("measure the page");
        let found: Vec<String> = serde_json::from_value(found).unwrap_or_default();
        if !found.is_empty() {
            self.screenshot(&format!("failed-fit-{what}")).await;
        }
        assert!(found.is_empty(), "{what} does not fit the window: {found:?}");
    }

    pub async fn sign_in(&self, username: &str, password: &str) {
        self.wait("[data-stage=sign_in]").await;
        self.fill("[name=username]", username).await;
        self.fill("[name=password]", password).await;
        self.click("[data-action=submit]").await;
        self.wait(".shell").await;
    }

    pub async fn sign_out(&self) {
        self.click("[data-action=sign-out]").await;
        self.wait("[data-stage=sign_in]").await;
    }

    /// Saves a PNG of the window as `target/screenshots/<prefix>-<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        // Let fonts and transitions settle; passing notifications would only clutter the picture.
        tokio::time::sleep(Duration::from_millis(250)).await;
        let toasts = |visibility: &str| format!("document.getElementById('toasts').style.visibility = '{visibility}'");
        let _ = self.client.execute(&toasts("hidden"), vec![]).await;
        // painted hidden before the picture is taken (a frame here takes 100-150 ms)
        let frames = "requestAnimationFrame(() => requestAnimationFrame(arguments[0]))";
        let _ = self.client.execute_async(frames, vec![]).await;
        let shot = self.client.screenshot().await;
        let _ = self.client.execute(&toasts(""), vec![]).await;
        let Ok(png) = shot else { return };
        let file = format!("{}-{name}.png", self.prefix);
        let dir = root().join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(&file), &png).expect("write screenshot");
        if std::env::var("CRM_UPDATE_SCREENSHOTS").as_deref() == Ok("1") && !name.starts_with("failed") {
            let dir = root().join(".github/screenshots");
            std::fs::create_dir_all(&dir).expect("screenshot dir");
            std::fs::write(dir.join(&file), &png).expect("write screenshot");
        }
    }
}
