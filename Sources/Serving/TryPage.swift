/// The page served at `GET /`: type sentences (one per line), press Translate (or Ctrl+Enter),
/// read the translations. Self-contained (no CDN, no external file): it calls `POST /translate` on
/// the same server. `/?q=TEXT` fills the box and translates at once (links, and the headless check
/// in `scripts/check-page.sh`).
enum TryPage {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>seq2seq translate</title>
    <style>
      body { font: 16px/1.45 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
      h1 { font-size: 1.3rem; margin-bottom: .3rem; }
      p.hint { color: #666; margin-top: 0; font-size: .9rem; }
      textarea { width: 100%; box-sizing: border-box; min-height: 6rem; font: inherit; padding: .5rem; }
      button { font: inherit; padding: .35rem 1.2rem; margin: .5rem 0; cursor: pointer; }
      #output { white-space: pre-wrap; background: #f4f6f8; border-radius: 4px; padding: .6rem; min-height: 2.5rem; }
      #status { color: #666; font-size: .85rem; }
      #status.error { color: #b00020; }
    </style>
    </head>
    <body>
    <h1>seq2seq translate</h1>
    <p class="hint">One sentence per line. Ctrl+Enter translates.</p>
    <textarea id="source" autofocus placeholder="Type a sentence"></textarea>
    <div><button id="go">Translate</button> <span id="status"></span></div>
    <div id="output" aria-live="polite"></div>
    <script>
    "use strict";
    const source = document.getElementById("source");
    const output = document.getElementById("output");
    const status = document.getElementById("status");
    const go = document.getElementById("go");
    async function translate() {
      const text = source.value.split("\n");
      go.disabled = true;
      status.className = "";
      status.textContent = "translating…";
      const started = performance.now();
      try {
        const answer = await fetch("translate", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ text: text })
        });
        const body = await answer.json();
        if (!answer.ok) throw new Error(body.error || answer.statusText);
        output.textContent = body.translations.join("\n");
        status.textContent = Math.round(performance.now() - started) + " ms";
      } catch (error) {
        status.className = "error";
        status.textContent = "error: " + error.message;
      } finally {
        go.disabled = false;
      }
    }
    go.addEventListener("click", translate);
    source.addEventListener("keydown", event => {
      if (event.key === "Enter" && event.ctrlKey) { event.preventDefault(); translate(); }
    });
    const query = new URLSearchParams(location.search).get("q");
    if (query !== null) { source.value = query; translate(); }
    </script>
    </body>
    </html>
    """#
}
