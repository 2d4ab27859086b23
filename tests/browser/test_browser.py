"""test_browser.py -- the status pages in a real browser (issue 15, item 5).

Headless Chromium (Debian's chromium + chromium-driver, driven by
python3-selenium) against the stack run-integration started: log in through
the form, open the overview and a job page, pause the system with the button
and see the mode change, log out. Asserts on the rendered DOM and keeps
screenshots under var/screenshots/ of the repository (overview, job page, the
overview at phone width, and the login page).

Environment: CONDUCTOR_URL, CONDUCTOR_CTL (conductorctl), top_srcdir.
Exit status 0 when every check passed, 1 otherwise.
"""
import json
import os
import secrets
import shutil
import subprocess
import sys
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

URL = os.environ["CONDUCTOR_URL"].rstrip("/")
CTL = os.environ["CONDUCTOR_CTL"]
SHOTS = os.path.join(os.environ.get("top_srcdir", "."), "var", "screenshots")
FAILURES = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        FAILURES.append(what)


def ctl(*args):
    out = subprocess.run([CTL, *args], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def api(method, path, token, body=None):
    req = urllib.request.Request(URL + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["data"]


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,1100", "--force-color-profile=srgb"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


def main():
    tag = secrets.token_hex(3)
    tenant = "browser-" + tag
    ctl("tenant", "create", tenant)
    op = ctl("token", "create", "--role", "operator", "--name", "b-op-" + tag, "--tenant", tenant)
    sub = ctl("token", "create", "--role", "submitter", "--name", "b-sub-" + tag,
              "--tenant", tenant)
    wrk = ctl("token", "create", "--role", "worker", "--name", "b-wrk-" + tag, "--tenant", tenant)
    first = api("POST", "/v1/fleet/jobs", sub, {
        "engine_class": 'a "quoted" & <b>name</b>', "priority": "high",
        "body": "<script>alert(1)</script>"})["job"]["id"]
    second = api("POST", "/v1/fleet/jobs", sub, {"deps": [first], "body": "after the first"})
    for i in range(14):
        api("POST", "/v1/fleet/jobs", sub, {"body": "job %d" % i,
                                            "priority": ["low", "medium", "high"][i % 3]})
    api("POST", "/v1/fleet/factories/heartbeat", wrk, {"factory_id": "gpu-box-1"})
    api("POST", "/v1/fleet/claim", wrk, {"factory_id": "gpu-box-1", "max_jobs": 4})

    os.makedirs(SHOTS, exist_ok=True)
    d = browser()
    # a form's POST answers 303 to the overview: an element found just
    # before that navigation goes stale -- look again rather than fail
    wait = WebDriverWait(d, 10, ignored_exceptions=[StaleElementReferenceException])
    try:
        d.get(URL + "/ui/")
        check(d.current_url.endswith("/ui/login"), "without a session /ui/ leads to the login page")
        d.save_screenshot(os.path.join(SHOTS, "login.png"))
        d.find_element(By.ID, "token").send_keys(op)
        d.find_element(By.ID, "login").click()
        wait.until(EC.presence_of_element_located((By.ID, "mode")))
        check(d.current_url.endswith("/ui/"), "the login form leads to the overview")
        check(d.find_element(By.ID, "mode").text.lower() == "running", "the mode reads running")
        check(d.find_element(By.ID, "jobs-total").text == "16", "16 jobs counted")
        check(len(d.find_elements(By.CSS_SELECTOR, "svg.bar rect")) >= 2,
              "the stage bar has a rect per stage")
        check(len(d.find_elements(By.CSS_SELECTOR, "svg.spark polyline")) == 2,
              "the sparkline has shipped and failed")
        check("gpu-box-1" in d.find_element(By.ID, "workers").text, "the worker is listed")
        cookies = d.get_cookies()
        check(len(cookies) == 1 and cookies[0]["httpOnly"] and cookies[0]["path"] == "/ui"
              and cookies[0].get("sameSite") == "Strict", "the session cookie is HttpOnly, Strict, /ui")
        check(op not in json.dumps(cookies), "the token is not in the cookie")
        d.save_screenshot(os.path.join(SHOTS, "overview.png"))

        d.get(URL + "/ui/jobs/" + first)
        wait.until(EC.presence_of_element_located((By.ID, "job")))
        fields = d.find_element(By.ID, "job").text
        check("<script>alert(1)</script>" in fields, "the script body shows as text")
        check(len(d.find_elements(By.TAG_NAME, "script")) == 0, "no script element on the page")
        check('a "quoted" & <b>name</b>' in fields, "the engine class with quotes, & and markup as text")
        check(d.find_element(By.ID, "dependents").find_element(By.TAG_NAME, "a").text
              == second["job"]["id"], "the job links the job that needs it")
        d.save_screenshot(os.path.join(SHOTS, "job.png"))
        d.find_element(By.ID, "dependents").find_element(By.TAG_NAME, "a").click()
        # the job page being left has a #deps too: wait for the new address first
        wait.until(EC.url_contains("/ui/jobs/" + second["job"]["id"]))
        wait.until(EC.presence_of_element_located((By.ID, "deps")))
        check(d.find_element(By.ID, "deps").find_element(By.TAG_NAME, "a").text == first,
              "the dependent links back to its dependency")

        d.get(URL + "/ui/")
        d.find_element(By.ID, "reason").send_keys("maintenance & <upgrade>")
        d.find_element(By.ID, "pause").click()
        wait.until(lambda d: d.find_element(By.ID, "mode").text.lower() == "paused")
        check(d.find_element(By.ID, "mode").text.lower() == "paused", "the pause button pauses")
        check(d.find_element(By.ID, "mode-reason").text == "maintenance & <upgrade>",
              "the reason shows as typed")
        check(d.find_element(By.ID, "mode-by").text == "b-op-" + tag, "who paused it")
        state = api("GET", "/v1/system/state", op)
        check(state["mode"] == "paused", "the API agrees: paused")

        d.set_window_size(390, 1400)
        d.get(URL + "/ui/")
        wait.until(EC.presence_of_element_located((By.ID, "mode")))
        width = d.execute_script("return document.documentElement.scrollWidth")
        check(width <= 390, "no sideways scrolling at phone width (%s px)" % width)
        d.save_screenshot(os.path.join(SHOTS, "overview-phone.png"))
        d.set_window_size(1280, 1100)
        # the system's dark preference: the page follows it
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {
            "features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        d.get(URL + "/ui/")
        wait.until(EC.presence_of_element_located((By.ID, "mode")))
        bg = d.execute_script("return getComputedStyle(document.body).backgroundColor")
        check(bg == "rgb(17, 21, 28)", "dark mode: the background turns dark (%s)" % bg)
        d.save_screenshot(os.path.join(SHOTS, "overview-dark.png"))
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})

        d.find_element(By.ID, "resume").click()
        wait.until(lambda d: d.find_element(By.ID, "mode").text.lower() == "running")
        d.find_element(By.ID, "logout").click()
        wait.until(EC.presence_of_element_located((By.ID, "token")))
        check(d.current_url.endswith("/ui/login"), "logout leads to the login page")
        d.get(URL + "/ui/")
        check(d.current_url.endswith("/ui/login"), "after logout /ui/ leads to the login page")
    finally:
        d.quit()
    print("%d failure(s)" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
