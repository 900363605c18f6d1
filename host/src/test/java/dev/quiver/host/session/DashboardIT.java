package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real headless Chromium (Debian's {@code chromium} through its {@code
 * chromedriver}) against {@code bin/quiver serve} as a child JVM, fed the bundled BTC 4h bars: a
 * paper session stepped over the API, a strategy rollout whose challenger is a copy of the bundle
 * the build fitted (another folder, so another bundle). Each page loads with no console error; the
 * Live page's charts draw (a canvas with painted pixels); a bar posted over the API shows its
 * decision on the Live page without a reload (server-sent events); the Account page's figures equal
 * {@code GET /v1/accounts/{id}}; promote on the Rollouts page, through its confirm dialog with who
 * and why, moves the stage and the audit trail holds both; the fit's walk-forward report is listed
 * on Reports and opens; a training schedule set over the API shows on Training with its next run,
 * and a training job shows on the page's tick and is cancelled through its confirm dialog. The
 * rollout runs over the last {@value #ROLLOUT_BARS} stepped bars: its figures over time ({@code GET
 * /v1/rollouts/{id}/series}) end at its current figures and the Rollouts page draws them. Every
 * page passes axe-core's label, name, ARIA and keyboard rules, a Tab pass reaches each of its
 * controls, and every time it shows has its zone ({@link #audit}). Screenshots of every page go to
 * {@code target/dashboard/}. Timings (the Live page's first load split by the Performance API, the
 * pushed decision's paint delay) are printed, never asserted.
 *
 * <p>Without {@code /usr/bin/chromium} and {@code /usr/bin/chromedriver} it fails (never skips):
 * {@code .ci/run} installs them ({@code apt-get install chromium chromium-driver}).
 */
class DashboardIT {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Path SCREENSHOTS = Path.of("target", "dashboard");

    /** Warm-up through this bar; the session is stepped from the next one. */
    static final Instant T = Instant.parse("2021-01-01T00:00:00Z");

    /**
     * Bars stepped before the browser opens the Live page. The load target is the Live page
     * with 10,000 bars of history (all a session keeps): {@code
     * -Dquiver.dashboard.historyBars=10000}. Stepping them costs about 11 ms a bar on the shared
     * 2-core box (114 s for 10,000), over this test's time budget, so CI steps 3,000 and prints the
     * load time with the count.
     */
    static final int STEPPED_BARS = Integer.getInteger("quiver.dashboard.historyBars", 3_000);

    /** Of {@link #STEPPED_BARS}, the last ones stepped with the shadow rollout running. */
    static final int ROLLOUT_BARS = 500;

    /**
     * Where the Live page's first load went, from the navigation's start, in the browser
     * (Performance API: navigation and resource timing, and the page's own marks).
     */
    static final String LOAD_SPLIT =
            "const q = window.__quiver, t = q.timing;"
                    + "const nav = performance.getEntriesByType('navigation')[0];"
                    + "const res = performance.getEntriesByType('resource');"
                    + "const path = (r) => new URL(r.name).pathname;"
                    + "const h = res.find((r) => r.name.includes('/history?'));"
                    + "const st = res.find((r) => /^\\/v1\\/sessions\\/[^/]+$/.test(path(r)));"
                    + "const js = res.filter((r) => path(r).endsWith('.js'));"
                    + "const r0 = (x) => Math.round(x);"
                    + "return JSON.stringify({bars: t.bars, html_received: r0(nav.responseEnd),"
                    + " scripts: js.length, scripts_received: r0(Math.max(...js.map((r) =>"
                    + " r.responseEnd))), page_started: r0(t.page_started),"
                    + " history_asked: r0(h.startTime),"
                    + " history_server: r0(h.responseStart - h.requestStart),"
                    + " history_server_timing: (h.serverTiming || []).map((x) => x.name + ' '"
                    + " + Math.round(x.duration)).join(', '),"
                    + " history_download: r0(h.responseEnd - h.responseStart),"
                    + " history_bytes: h.decodedBodySize, history_wire_bytes: h.encodedBodySize,"
                    + " history_read_by_page: r0(t.received), history_parse: r0(t.parsed -"
                    + " t.received), state_answered: st ? r0(st.responseEnd) : null,"
                    + " charts_draw: r0(t.charts_drawn - t.parsed),"
                    + " page_ready: r0(q.ready), shown: r0(q.shown)});";

    /** Categories of axe-core rules whose violations fail the test: labels, names, keyboard. */
    static final List<String> FAILING =
            List.of(
                    "cat.keyboard",
                    "cat.forms",
                    "cat.name-role-value",
                    "cat.text-alternatives",
                    "cat.aria");

    /** Bars per request while stepping the history (the service refuses bodies over 1 MB). */
    static final int BARS_PER_REQUEST = 2_000;

    /** The plugin dropped into the service's plugins folder while the Plugins page is open. */
    static final String DROPPED = "prediction-momentum-template";

    /** The bundle the build fitted on the bundled BTC bars, shipped in the distribution. */
    static final Path EMBEDDED = ServeProcess.DISTRIBUTION.resolve("strategies/btc-usd-4h");

    static final String REPORT = "walk-forward-report";
    static final String SYMBOL = "BTC";
    static final String ACCOUNT = "dash-btc";
    static final String ROLLOUT = "dash-shadow";
    static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir Path work;

    @Test
    void everyPageLoadsLiveDecisionsArriveByEventsAndAPromotionIsAudited() throws Exception {
        assertThat(CHROMIUM)
                .as("Debian's chromium (.ci/run installs it: apt-get install chromium)")
                .isExecutable();
        assertThat(CHROMEDRIVER)
                .as("Debian's chromedriver (.ci/run installs it: apt-get install chromium-driver)")
                .isExecutable();
        long started = System.nanoTime();
        // The challenger: a copy of the bundle the build fitted (a bundle's id is its folder, so
        // the copy is another bundle with the same policies), and its walk-forward report for
        // the Reports page. The rollout's mechanics are under test here, not the challenger.
        Path challenger = copy(EMBEDDED, work.resolve("challenger"));
        copy(EMBEDDED.resolveSibling(EMBEDDED.getFileName() + "-report"), work.resolve(REPORT));
        BarData btc = BundledData.BTC_USD_4H.load();
        int next = 0;
        while (!btc.bar(next).start().isAfter(T)) {
            next++;
        }
        // The service's own plugins folder (a copy of the distribution's zips, watched), so a
        // plugin can be dropped in without touching the distribution other tests use.
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        try (java.util.stream.Stream<Path> zips =
                Files.list(ServeProcess.DISTRIBUTION.resolve("plugins"))) {
            for (Path zip : zips.filter(f -> f.toString().endsWith(".zip")).toList()) {
                Files.copy(zip, plugins.resolve(zip.getFileName()));
            }
        }
        List<String> args = new ArrayList<>(dev.quiver.host.plugin.Trusting.options());
        args.addAll(
                List.of(
                        "--plugins-dir",
                        plugins.toString(),
                        "--watch-interval-ms",
                        "500",
                        "--state-url",
                        "jdbc:sqlite:" + work.resolve("state.db"),
                        "--rollouts-dir",
                        work.resolve("rollouts").toString(),
                        "--reports-dir",
                        work.toString()));
        try (ServeProcess serve = ServeProcess.start(work, "serve", args.toArray(String[]::new))) {
            open(serve);
            long stepping = System.nanoTime();
            next = step(serve, btc, next, STEPPED_BARS - ROLLOUT_BARS);
            // The rollout runs over the last bars, so its figures over time are real ones.
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("id", ROLLOUT);
            spec.put("challenger", Map.of("strategy", challenger.toString()));
            spec.put("mode", "shadow");
            spec.put("rules", Map.of("metric", "log_loss", "min_samples", 30, "automatic", false));
            ServeProcess.Answer rollout = serve.post("/v1/rollouts", spec);
            assertThat(rollout.status()).as(rollout.toString()).isEqualTo(201);
            next = step(serve, btc, next, ROLLOUT_BARS);
            System.out.printf(
                    "DashboardIT: %,d bars stepped over the API in %.1f s (the last %,d with a"
                            + " shadow rollout)%n",
                    STEPPED_BARS, (System.nanoTime() - stepping) / 1e9, ROLLOUT_BARS);
            // The columns the Live page draws hold the whole history, index by index the entries.
            JsonNode columns =
                    serve.ok(
                            "GET",
                            "/v1/sessions/"
                                    + SYMBOL
                                    + "/history?limit="
                                    + STEPPED_BARS
                                    + "&format=columns",
                            null);
            JsonNode entries =
                    serve.ok(
                            "GET",
                            "/v1/sessions/" + SYMBOL + "/history?limit=" + STEPPED_BARS,
                            null);
            assertThat(columns.get("count").asInt()).isEqualTo(STEPPED_BARS);
            assertThat(columns.at("/columns/close").size()).isEqualTo(STEPPED_BARS);
            JsonNode lastEntry = entries.get("entries").get(STEPPED_BARS - 1);
            assertThat(columns.at("/columns/time").get(STEPPED_BARS - 1).asLong())
                    .isEqualTo(Instant.parse(lastEntry.get("bar_time").asText()).getEpochSecond());
            // Probabilities to 4 decimals, equity at single precision: the entry's figure so
            // rounded.
            assertThat(columns.at("/columns/p_up").get(STEPPED_BARS - 1).asDouble())
                    .isEqualTo(Math.round(lastEntry.get("p_up").asDouble() * 1e4) / 1e4);
            assertThat(
                            columns.at("/columns/policies/kelly_ml/equity")
                                    .get(STEPPED_BARS - 1)
                                    .floatValue())
                    .isEqualTo((float) lastEntry.at("/policies/kelly_ml/equity").asDouble());
            // What the Live page asks for: its columns only, the acting policy's only; the same
            // values.
            JsonNode live =
                    serve.ok(
                            "GET",
                            "/v1/sessions/"
                                    + SYMBOL
                                    + "/history?limit="
                                    + STEPPED_BARS
                                    + "&format=columns&fields=close,p_up,agreement,sources,ordered"
                                    + "&policies=acting",
                            null);
            assertThat(live.at("/columns/policies").size()).isEqualTo(1);
            assertThat(live.at("/columns/policies/kelly_ml/equity").isMissingNode()).isTrue();
            assertThat(live.at("/columns/sources"))
                    .isEqualTo(columns.at("/columns/sources"))
                    .hasSizeGreaterThan(1);
            assertThat(live.at("/columns/policies/kelly_ml/ordered"))
                    .isEqualTo(columns.at("/columns/policies/kelly_ml/ordered"));
            System.out.printf(
                    "DashboardIT: history of %,d bars: %,d bytes as the Live page's columns, %,d as"
                            + " all columns, %,d as entries%n",
                    STEPPED_BARS,
                    live.toString().length(),
                    columns.toString().length(),
                    entries.toString().length());
            Files.createDirectories(SCREENSHOTS);
            WebDriver driver = browser();
            try {
                String base = "http://127.0.0.1:" + serve.port + "/";
                // A page re-rendered between finding an element and reading it: look again.
                WebDriverWait wait = new WebDriverWait(driver, WAIT);
                wait.ignoring(StaleElementReferenceException.class);

                // Live: history drawn, then a pushed bar's decision appears without a reload.
                long loadStart = System.nanoTime();
                driver.get(base + "#/live/" + SYMBOL);
                wait.until(d -> d.findElements(By.cssSelector("#decisions tr")).size() > 0);
                wait.until(
                        d ->
                                ((JavascriptExecutor) d)
                                                .executeScript(
                                                        "return window.__quiver &&"
                                                                + " window.__quiver.ready")
                                        != null);
                Object drawn =
                        ((JavascriptExecutor) driver).executeScript("return window.__quiver.ready");
                System.out.printf(
                        "DashboardIT: Live page with %d bars of history drawn %d ms after the"
                                + " navigation started (browser clock; %d ms for the test,"
                                + " driver round trips included)%n",
                        STEPPED_BARS,
                        ((Number) drawn).longValue(),
                        (System.nanoTime() - loadStart) / 1_000_000);
                wait.until(
                        d ->
                                ((JavascriptExecutor) d)
                                                .executeScript("return window.__quiver.shown")
                                        != null);
                System.out.printf(
                        "DashboardIT: Live page's first load, from the navigation's start (ms,"
                                + " browser clock, Performance API): %s%n",
                        ((JavascriptExecutor) driver).executeScript(LOAD_SPLIT));
                assertPainted(driver, "#price-chart canvas");
                assertPainted(driver, "#pup-chart canvas");
                wait.until(d -> "live".equals(d.findElement(By.id("stream")).getText()));
                ((JavascriptExecutor) driver).executeScript("document.body.dataset.marker='kept'");
                String pushed = btc.bar(next).start().toString();
                JsonNode decided =
                        serve.ok("POST", "/v1/sessions/" + SYMBOL + "/bars", bars(btc, next));
                long postReturned = System.currentTimeMillis();
                next++;
                By row = By.cssSelector("#decisions tr[data-bar-time='" + pushed + "']");
                wait.until(d -> !d.findElements(row).isEmpty());
                assertThat(
                                ((JavascriptExecutor) driver)
                                        .executeScript("return document.body.dataset.marker"))
                        .as("the page was not reloaded")
                        .isEqualTo("kept");
                Object painted =
                        wait.until(
                                d ->
                                        ((JavascriptExecutor) d)
                                                .executeScript(
                                                        "return window.__quiver.painted[arguments[0]]"
                                                                + " || null",
                                                        pushed));
                System.out.printf(
                        "DashboardIT: decision of %s painted %d ms after its POST returned%n",
                        pushed, ((Number) painted).longValue() - postReturned);
                String acting = decided.at("/account/policy").asText();
                String fraction =
                        percent(decided.at("/decisions/" + acting + "/fraction").asDouble());
                assertThat(driver.findElement(row).getText())
                        .contains(fraction)
                        .contains(decided.at("/decisions/" + acting + "/reason").asText());
                wait.until(
                        d -> !d.findElements(By.cssSelector("#breakers [data-breaker]")).isEmpty());
                shot(driver, "live");
                audit(driver, "live");

                // Account: the figures are GET /v1/accounts/{id}'s.
                driver.get(base + "#/account/" + ACCOUNT);
                wait.until(d -> !d.findElements(By.cssSelector("[data-field='equity']")).isEmpty());
                JsonNode account = serve.ok("GET", "/v1/accounts/" + ACCOUNT, null);
                for (String field :
                        List.of(
                                "equity",
                                "cash",
                                "position_units",
                                "position_weight",
                                "high_water_mark",
                                "drawdown",
                                "daily_pnl",
                                "starting_equity")) {
                    String shown =
                            driver.findElement(By.cssSelector("[data-field='" + field + "']"))
                                    .getDomAttribute("data-value");
                    assertThat(Double.parseDouble(shown))
                            .as(field)
                            .isEqualTo(account.get(field).asDouble());
                }
                assertPainted(driver, "#equity-chart canvas");
                assertPainted(driver, "#daily-pnl-chart canvas");
                shot(driver, "account");
                audit(driver, "account");

                // Rollouts: promote through the confirm dialog; the stage moves, the audit says
                // who and why.
                driver.get(base + "#/rollouts");
                By promote =
                        By.cssSelector(
                                "button[data-action='promote'][data-rollout='" + ROLLOUT + "']");
                wait.until(d -> !d.findElements(promote).isEmpty());
                assertThat(stage(driver)).isEqualTo("shadow");
                // Its figures over time: the points the API answers, drawn once committed.
                long savedBy = System.nanoTime() + WAIT.toNanos();
                while (!serve.ok("GET", "/v1/rollouts/" + ROLLOUT, null).path("saved").asBoolean()
                        && System.nanoTime() < savedBy) {
                    Thread.sleep(100);
                }
                JsonNode series = serve.ok("GET", "/v1/rollouts/" + ROLLOUT + "/series", null);
                JsonNode figures = serve.ok("GET", "/v1/rollouts/" + ROLLOUT, null);
                int points = series.get("count").asInt();
                System.out.printf(
                        "DashboardIT: rollout %s: %d points of figures over time, champion n"
                                + " %d%n",
                        ROLLOUT, points, figures.at("/figures/champion/n").asLong());
                assertThat(points).isGreaterThan(ROLLOUT_BARS / 2);
                assertThat(series.at("/variants/champion/n").get(points - 1).asLong())
                        .isEqualTo(figures.at("/figures/champion/n").asLong());
                assertThat(series.at("/variants/challenger/log_loss").get(points - 1).asDouble())
                        .isEqualTo(figures.at("/figures/challenger/log_loss").asDouble());
                By metricChart =
                        By.cssSelector(
                                "[data-series='metric'][data-rollout='"
                                        + ROLLOUT
                                        + "'][data-points='"
                                        + points
                                        + "']");
                wait.until(d -> !d.findElements(metricChart).isEmpty());
                assertPainted(
                        driver, "[data-series='metric'][data-rollout='" + ROLLOUT + "'] canvas");
                assertPainted(driver, "[data-series='pnl'][data-rollout='" + ROLLOUT + "'] canvas");
                wait.until(
                        d -> {
                            d.findElement(promote).click();
                            return true;
                        });
                WebElement dialog = driver.findElement(By.id("confirm"));
                wait.until(d -> dialog.getDomAttribute("open") != null);
                // An empty reason is not sent.
                driver.findElement(By.id("confirm-actor")).sendKeys("it-operator");
                driver.findElement(By.id("confirm-ok")).click();
                assertThat(dialog.getDomAttribute("open")).isNotNull();
                assertThat(serve.ok("GET", "/v1/rollouts/" + ROLLOUT, null).get("stage").asText())
                        .isEqualTo("shadow");
                driver.findElement(By.id("confirm-reason"))
                        .sendKeys("challenger looks sound in the dashboard test");
                driver.findElement(By.id("confirm-ok")).click();
                wait.until(d -> "canary".equals(stage(d)));
                JsonNode after = serve.ok("GET", "/v1/rollouts/" + ROLLOUT, null);
                assertThat(after.get("stage").asText()).isEqualTo("canary");
                JsonNode last = after.get("transitions").get(after.get("transitions").size() - 1);
                assertThat(last.get("actor").asText()).isEqualTo("it-operator");
                assertThat(last.get("reason").asText())
                        .isEqualTo("challenger looks sound in the dashboard test");
                assertThat(last.get("to").asText()).isEqualTo("canary");
                assertThat(driver.findElement(By.cssSelector("tr.transition .actor")).getText())
                        .isEqualTo("it-operator");
                shot(driver, "rollouts");
                audit(driver, "rollouts");

                // Models, Plugins, Reports, Training load; Reports lists the fit's report.
                driver.get(base + "#/models");
                wait.until(d -> !d.findElements(By.id("provenance")).isEmpty());
                shot(driver, "models");
                audit(driver, "models");
                driver.get(base + "#/plugins");
                wait.until(d -> !d.findElements(By.cssSelector("[data-plugin]")).isEmpty());
                // A plugin dropped into the folder shows up without a reload: the template the
                // reactor built, trusted first as a user would, renamed into place.
                ((JavascriptExecutor) driver)
                        .executeScript("document.body.dataset.marker='plugins'");
                Path staged = work.resolve("momentum.zip");
                Files.copy(
                        Path.of(System.getProperty("quiver.testPlugins"))
                                .resolve("quiver-plugin-template-1.0.0.zip"),
                        staged);
                dev.quiver.host.plugin.Trusting.trust(staged);
                long dropped = System.nanoTime();
                Files.move(
                        staged,
                        plugins.resolve("momentum.zip"),
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                By droppedRow = By.cssSelector("[data-plugin='" + DROPPED + "']");
                wait.until(d -> !d.findElements(droppedRow).isEmpty());
                System.out.printf(
                        "DashboardIT: dropped plugin shown on Plugins %d ms after the drop%n",
                        (System.nanoTime() - dropped) / 1_000_000);
                assertThat(
                                ((JavascriptExecutor) driver)
                                        .executeScript("return document.body.dataset.marker"))
                        .as("the page was not reloaded")
                        .isEqualTo("plugins");
                assertThat(driver.findElement(droppedRow).getText()).contains("1.0.0", "momentum");
                shot(driver, "plugins");
                audit(driver, "plugins");
                driver.get(base + "#/reports");
                By report = By.cssSelector("[data-report='" + REPORT + "'] a");
                wait.until(d -> !d.findElements(report).isEmpty());
                shot(driver, "reports");
                audit(driver, "reports");
                String href = driver.findElement(report).getDomProperty("href");
                driver.get(href);
                wait.until(d -> d.getPageSource().contains("<h"));
                // Training: the service runs a scheduler; a schedule set over the API shows with
                // its next run, and the jobs table says there is no job yet.
                assertThat(
                                serve.ok("GET", "/v1/dashboard", null)
                                        .at("/training/available")
                                        .asBoolean())
                        .isTrue();
                Map<String, Object> schedule = new LinkedHashMap<>();
                schedule.put("name", "nightly-btc");
                schedule.put("kind", "fit-strategy");
                schedule.put("params", Map.of("dataset", "btc-usd-4h"));
                schedule.put("cron", "0 0 2 * * *");
                JsonNode config =
                        serve.ok(
                                "PUT",
                                "/v1/training/config",
                                Map.of(
                                        "schedules",
                                        List.of(schedule),
                                        "actor",
                                        "it-operator",
                                        "reason",
                                        "the dashboard test shows a schedule"));
                String nextRun = config.at("/schedules/0/next_run").asText();
                driver.get(base + "#/training");
                By scheduled =
                        By.cssSelector("#training-schedules tr[data-schedule='nightly-btc']");
                wait.until(d -> !d.findElements(scheduled).isEmpty());
                assertThat(
                                driver.findElement(scheduled)
                                        .findElement(By.className("next-run"))
                                        .getDomAttribute("data-value"))
                        .isEqualTo(nextRun);
                assertThat(driver.findElement(scheduled).getText())
                        .contains("nightly-btc", "cron 0 0 2 * * *", utcShown(nextRun));
                assertThat(driver.findElement(By.id("training-jobs")).getText())
                        .contains("No training job yet");
                // A job asked for over the API shows on the page's tick (no reload), and is
                // cancelled through the confirm dialog with who and why. The whole BTC series
                // at the default fold sizes is a long fit: it is still queued or running.
                System.out.printf(
                        "DashboardIT: Training page's schedule checked after %.1f s%n",
                        (System.nanoTime() - started) / 1e9);
                long trainingStart = System.nanoTime();
                Map<String, Object> job = new LinkedHashMap<>();
                job.put("kind", "fit-strategy");
                job.put("params", Map.of("dataset", "btc-usd-4h"));
                job.put("actor", "it-operator");
                job.put("reason", "a job to cancel from the dashboard");
                ServeProcess.Answer asked = serve.post("/v1/training/jobs", job);
                assertThat(asked.status()).as(asked.toString()).isEqualTo(202);
                String jobId = asked.body().path("id").asText();
                By cancelJob = By.cssSelector("button[data-cancel='" + jobId + "']");
                wait.until(d -> !d.findElements(cancelJob).isEmpty());
                wait.until(
                        d -> {
                            d.findElement(cancelJob).click();
                            return true;
                        });
                // The page was loaded again since the Rollouts page: its dialog is another element.
                WebElement cancelDialog = driver.findElement(By.id("confirm"));
                wait.until(d -> cancelDialog.getDomAttribute("open") != null);
                driver.findElement(By.id("confirm-ok")).click(); // who and why empty: not sent
                assertThat(cancelDialog.getDomAttribute("open")).isNotNull();
                driver.findElement(By.id("confirm-actor")).clear();
                driver.findElement(By.id("confirm-actor")).sendKeys("it-operator");
                driver.findElement(By.id("confirm-reason")).sendKeys("wrong series");
                driver.findElement(By.id("confirm-ok")).click();
                By jobState = By.cssSelector("tr[data-job='" + jobId + "'] [data-state]");
                wait.until(
                        d ->
                                "cancelled"
                                        .equals(
                                                d.findElement(jobState)
                                                        .getDomAttribute("data-state")));
                JsonNode cancelled = serve.ok("GET", "/v1/training/jobs/" + jobId, null);
                assertThat(cancelled.path("state").asText()).isEqualTo("cancelled");
                // A running job's error also says where it stopped (e.g. a plugin's setup).
                assertThat(cancelled.path("error").asText())
                        .startsWith("cancelled by it-operator: wrong series");
                assertThat(
                                driver.findElement(By.cssSelector("tr[data-job='" + jobId + "']"))
                                        .getText())
                        .contains(cancelled.path("error").asText())
                        .contains("a job to cancel from the dashboard")
                        .contains(utcShown(cancelled.path("finished_at").asText()));
                System.out.printf(
                        "DashboardIT: training job shown and cancelled through the page in %d ms%n",
                        (System.nanoTime() - trainingStart) / 1_000_000);
                // Drift per feature: the session's PSI and KS as GET /v1/training/drift measures
                // them (the bars and the bundle do not change in between).
                JsonNode drift = serve.ok("GET", "/v1/training/drift?symbol=" + SYMBOL, null);
                JsonNode features = drift.at("/sessions/0/features");
                assertThat(features.size()).as(drift.toString()).isGreaterThan(1);
                By driftRows = By.cssSelector("#training-drift tr[data-feature]");
                wait.until(d -> d.findElements(driftRows).size() == features.size());
                for (WebElement r : driver.findElements(driftRows)) {
                    JsonNode f = features.get(r.getDomAttribute("data-feature"));
                    assertThat(f).as(r.getText()).isNotNull();
                    assertThat(
                                    Double.parseDouble(
                                            r.findElement(By.cssSelector("[data-value]"))
                                                    .getDomAttribute("data-value")))
                            .isEqualTo(f.get("psi").asDouble());
                    assertThat(r.getText())
                            .contains(
                                    String.format(
                                            java.util.Locale.US, "%.3f", f.get("ks").asDouble()));
                }
                shot(driver, "training");
                audit(driver, "training");
                ((JavascriptExecutor) driver)
                        .executeScript(
                                "document.getElementById('training-drift').scrollIntoView()");
                shot(driver, "training-drift");

                List<String> errors = new ArrayList<>();
                for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
                    if (e.getLevel().intValue() >= Level.SEVERE.intValue()) {
                        errors.add(e.getMessage());
                    }
                }
                assertThat(errors).as("browser console errors").isEmpty();
            } finally {
                driver.quit();
            }
            System.out.printf(
                    "DashboardIT: browser checks done after %.1f s (the service's stop follows)%n",
                    (System.nanoTime() - started) / 1e9);
        }
        System.out.printf("DashboardIT: took %.1f s in all%n", (System.nanoTime() - started) / 1e9);
    }

    private static int step(ServeProcess serve, BarData btc, int next, int bars) throws Exception {
        for (int sent = 0; sent < bars; ) {
            List<Map<String, Object>> chunk = new ArrayList<>();
            for (; chunk.size() < BARS_PER_REQUEST && sent < bars; sent++, next++) {
                chunk.add(StrategyParityIT.bar(btc.bar(next)));
            }
            serve.ok("POST", "/v1/sessions/" + SYMBOL + "/bars", Map.of("bars", chunk));
        }
        return next;
    }

    /** axe-core's script, as Deque's selenium jar bundles it (on the test class path). */
    private static String axe() throws java.io.IOException {
        try (java.io.InputStream in =
                DashboardIT.class.getClassLoader().getResourceAsStream("axe.min.js")) {
            assertThat(in).as("axe.min.js (com.deque.html.axe-core:selenium)").isNotNull();
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /**
     * The page as it stands, checked three ways: axe-core run in the page (violations of its label,
     * name, ARIA and keyboard rules fail; the others are printed), every visible control reached by
     * the Tab key in one pass from the top (real key presses through the driver), and every time
     * shown with its zone (a date-time in the text is followed by "UTC" or ends in "Z"; JSON in
     * {@code pre}/{@code code} aside).
     */
    private void audit(WebDriver driver, String page) throws Exception {
        long started = System.nanoTime();
        JavascriptExecutor js = (JavascriptExecutor) driver;
        if (!Boolean.TRUE.equals(js.executeScript("return typeof window.axe === 'object'"))) {
            js.executeScript(axe());
        }
        String out =
                (String)
                        js.executeAsyncScript(
                                "const done = arguments[arguments.length - 1];"
                                        + "axe.run(document, {resultTypes: ['violations']})"
                                        + ".then((r) => done(JSON.stringify({passed:"
                                        + " r.passes.length, version: r.testEngine.version,"
                                        + " violations: r.violations.map((v) => ({id: v.id,"
                                        + " impact: v.impact, tags: v.tags, help: v.help, nodes:"
                                        + " v.nodes.map((n) => n.target.join(' ') + ' -> ' +"
                                        + " n.failureSummary)}))})))"
                                        + ".catch((e) => done(JSON.stringify({error:"
                                        + " String(e)})));");
        JsonNode result = ServeProcess.JSON.readTree(out);
        assertThat(result.path("error").isMissingNode()).as(out).isTrue();
        List<String> failing = new ArrayList<>();
        List<String> other = new ArrayList<>();
        for (JsonNode v : result.get("violations")) {
            boolean fails = false;
            for (JsonNode tag : v.get("tags")) {
                fails |= FAILING.contains(tag.asText());
            }
            String line =
                    v.get("id").asText()
                            + " ("
                            + v.get("impact").asText()
                            + ", "
                            + v.get("help").asText()
                            + "): "
                            + v.get("nodes");
            (fails ? failing : other).add(line);
        }
        // Keyboard: every visible control, in one pass of Tab presses from the top of the page.
        long controls =
                (Long)
                        js.executeScript(
                                "const sel = 'a[href], button:not([disabled]),"
                                        + " input:not([type=hidden]):not([disabled]),"
                                        + " select:not([disabled]), textarea:not([disabled]),"
                                        + " summary, [tabindex]:not([tabindex=\"-1\"])';"
                                        + "const els = [...document.querySelectorAll(sel)]"
                                        + ".filter((e) => e.getClientRects().length > 0"
                                        + " && !e.closest('dialog:not([open]), [hidden]'));"
                                        + "els.forEach((e, i) => e.dataset.kb = String(i));"
                                        + "window.__kb = [];"
                                        + "if (!window.__kbListening) { window.__kbListening ="
                                        + " true; document.addEventListener('focusin', (e) =>"
                                        + " window.__kb.push(e.target.dataset ? e.target.dataset.kb"
                                        + " || null : null)); }"
                                        + "if (document.activeElement) document.activeElement.blur();"
                                        + "window.scrollTo(0, 0);"
                                        + "return els.length;");
        org.openqa.selenium.interactions.Actions tabs =
                new org.openqa.selenium.interactions.Actions(driver);
        for (long i = 0; i < controls + 2; i++) {
            tabs.sendKeys(org.openqa.selenium.Keys.TAB);
        }
        tabs.perform();
        @SuppressWarnings("unchecked")
        List<String> unreached =
                (List<String>)
                        js.executeScript(
                                "const got = new Set(window.__kb);"
                                        + "return [...document.querySelectorAll('[data-kb]')]"
                                        + ".filter((e) => !got.has(e.dataset.kb))"
                                        + ".map((e) => e.outerHTML.slice(0, 160));");
        // Times with their zone.
        @SuppressWarnings("unchecked")
        List<String> zoneless =
                (List<String>)
                        js.executeScript(
                                "const bad = [];"
                                        + "const w = document.createTreeWalker(document.body,"
                                        + " NodeFilter.SHOW_TEXT);"
                                        + "const re = /\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}"
                                        + "(:\\d{2}(\\.\\d+)?)?(Z)?/g;"
                                        + "while (w.nextNode()) { const n = w.currentNode;"
                                        + " if (n.parentElement.closest('pre, code, script,"
                                        + " style')) continue; const t = n.textContent;"
                                        + " let m; while ((m = re.exec(t))) { if (m[3]) continue;"
                                        + " const after = t.slice(m.index + m[0].length);"
                                        + " if (!after.startsWith(' UTC')) bad.push(t.trim()"
                                        + ".slice(0, 120)); } }"
                                        + "return bad;");
        System.out.printf(
                "DashboardIT: %s page: axe-core %s, %d rules passed, %d violations failing, %d"
                        + " others %s; %d controls, %d reached by Tab; %d times without zone"
                        + " (%d ms)%n",
                page,
                result.get("version").asText(),
                result.get("passed").asInt(),
                failing.size(),
                other.size(),
                other,
                controls,
                controls - unreached.size(),
                zoneless.size(),
                (System.nanoTime() - started) / 1_000_000);
        assertThat(failing).as("axe-core label/name/keyboard violations on " + page).isEmpty();
        assertThat(unreached).as("controls on " + page + " not reached by Tab").isEmpty();
        assertThat(zoneless).as("times shown without their zone on " + page).isEmpty();
    }

    /** The JS page's UTC format: 2026-12-08T02:00:00Z -> "2026-12-08 02:00:00 UTC". */
    static String utcShown(String iso) {
        return Instant.parse(iso)
                        .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                        .toString()
                        .replace("T", " ")
                        .replace("Z", "")
                + " UTC";
    }

    /** The JS page's percent format of a fraction: 0.1234 -> "12.34 %". */
    static String percent(double fraction) {
        return String.format(java.util.Locale.US, "%,.2f %%", fraction * 100);
    }

    private static String stage(WebDriver d) {
        List<WebElement> badges =
                d.findElements(By.cssSelector("[data-rollout='" + ROLLOUT + "'] [data-stage]"));
        return badges.isEmpty() ? null : badges.get(0).getDomAttribute("data-stage");
    }

    /** Some pixel of the chart's canvas is painted (not blank). */
    private static void assertPainted(WebDriver driver, String canvas) {
        Object painted =
                ((JavascriptExecutor) driver)
                        .executeScript(
                                "const c = document.querySelector(arguments[0]);"
                                        + "if (!c) return -1;"
                                        + "const d = c.getContext('2d').getImageData(0, 0,"
                                        + " c.width, c.height).data;"
                                        + "let n = 0; for (let i = 3; i < d.length; i += 4)"
                                        + " if (d[i] > 0) n++; return n;",
                                canvas);
        assertThat(((Number) painted).longValue()).as("painted pixels of " + canvas).isPositive();
    }

    private static void shot(WebDriver driver, String page) throws Exception {
        File f = ((org.openqa.selenium.TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(
                f.toPath(),
                SCREENSHOTS.resolve(page + ".png"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private WebDriver browser() throws Exception {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        Path profile = Files.createDirectories(work.resolve("chromium-profile"));
        options.addArguments(
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1280,800",
                "--user-data-dir=" + profile);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service =
                new ChromeDriverService.Builder()
                        .usingDriverExecutable(CHROMEDRIVER.toFile())
                        .usingAnyFreePort()
                        .build();
        return new ChromeDriver(service, options);
    }

    private static void open(ServeProcess serve) throws Exception {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("account", ACCOUNT);
        body.put("starting_equity", 10_000.0);
        body.put("mode", "paper");
        body.put("interval", "PT4H");
        body.put("policy", "kelly_ml");
        body.put("warmup", Map.of("dataset", "btc-usd-4h", "until", T.toString()));
        serve.ok("PUT", "/v1/sessions/" + SYMBOL, body);
    }

    private static Path copy(Path from, Path to) throws java.io.IOException {
        try (java.util.stream.Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(from.relativize(f).toString()));
            }
        }
        return to;
    }

    private static Map<String, Object> bars(BarData data, int i) {
        return Map.of("bars", List.of(StrategyParityIT.bar(data.bar(i))));
    }
}
