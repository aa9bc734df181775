// Runs OpenCV's WebAssembly build and Jium's fingerprint code off the page's main thread.
// It receives File objects from the page and answers with fingerprints: nothing here touches
// the network except loading the two scripts once, when the page starts.
"use strict";
var cvReady = null;
var MAX_PIXELS = 40000000;

function sniff(head) {
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "jpeg";
  if (head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) return "png";
  var ascii = String.fromCharCode.apply(null, head.subarray(0, 12));
  if (ascii.slice(0, 4) === "GIF8") return "gif";
  if (ascii.slice(0, 4) === "RIFF" && ascii.slice(8, 12) === "WEBP") return "webp";
  if (ascii.slice(0, 2) === "BM") return "bmp";
  if (ascii.slice(4, 8) === "ftyp") {
    var brand = ascii.slice(8, 12);
    if (brand === "avif" || brand === "avis") return "avif";
    return "heic"; // heic, heix, mif1, … (and videos, which are not images either)
  }
  return null;
}

function fail(code) {
  var e = new Error(code);
  e.code = code;
  return e;
}

async function decode(file) {
  var head = new Uint8Array(await file.slice(0, 64).arrayBuffer());
  var kind = sniff(head);
  if (kind === "heic") throw fail("heic");
  if (!kind) throw fail("not_image");
  var bitmap;
  try {
    // EXIF orientation applied as the server does; no colour-profile conversion (the server's
    // decoder ignores profiles too).
    bitmap = await createImageBitmap(file, {
      imageOrientation: "from-image",
      colorSpaceConversion: "none",
      premultiplyAlpha: "none",
    });
  } catch (err) {
    throw fail("corrupt");
  }
  var w = bitmap.width, h = bitmap.height;
  if (!w || !h) throw fail("corrupt");
  if (w * h > MAX_PIXELS) { bitmap.close(); throw fail("too_large"); }
  var canvas = new OffscreenCanvas(w, h);
  var ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.fillStyle = "#fff"; // transparent areas become white, as on the server
  ctx.fillRect(0, 0, w, h);
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  var data = ctx.getImageData(0, 0, w, h).data;
  canvas.width = canvas.height = 0;
  return { rgba: data, w: w, h: h, jpeg: kind === "jpeg" };
}

self.onmessage = function (event) {
  var msg = event.data;
  if (msg.type === "init") {
    if (!cvReady) {
      cvReady = new Promise(function (resolve, reject) {
        try {
          importScripts(msg.opencv, msg.core);
        } catch (err) {
          reject(err);
          return;
        }
        Promise.resolve(self.cv).then(function (cv) {
          if (cv && cv.Mat) resolve(cv);
          else cv.onRuntimeInitialized = function () { resolve(cv); };
        }, reject);
      });
    }
    cvReady.then(
      function () { self.postMessage({ type: "ready" }); },
      function (err) { self.postMessage({ type: "failed", error: String(err) }); }
    );
    return;
  }
  if (msg.type === "file") {
    var started = performance.now();
    cvReady
      .then(function (cv) {
        return decode(msg.file).then(function (img) {
          var decoded = performance.now();
          var fp = self.JiumCore.fingerprintPixels(cv, img.rgba, img.w, img.h, { level: msg.level, jpeg: img.jpeg });
          var out = self.JiumCore.toJSON(fp, msg.name || "");
          self.postMessage({
            type: "done", id: msg.id, fingerprint: out,
            timing: { decode_ms: decoded - started, total_ms: performance.now() - started },
          });
        });
      })
      .catch(function (err) {
        self.postMessage({ type: "error", id: msg.id, code: err.code || "corrupt", detail: String(err) });
      });
  }
};
