// Runs static/fingerprint/core.js in Node on pixels the Python tests decoded (so both sides
// hash the very same pixels), with the OpenCV.js build the page itself loads.
//
//   node fingerprint_core_node.js JOBS.json  ->  one JSON line per job on stdout
//
// Each job: {"rgba": "<file of w*h*4 bytes>", "w": w, "h": h, "mode": "bands" | "features"}.
// "bands": the picture shrunk for PDQ and its band hashes (hex) and qualities, as the page
// computes them; "features": the whole fingerprint the page would send (base64 of toBytes) and
// the same without band hashes (what the page made before them).
"use strict";
const fs = require("fs");
const path = require("path");

const repo = path.resolve(__dirname, "..", "..");
const core = require(path.join(repo, "static", "fingerprint", "core.js"));
const opencv = require(path.join(repo, "node_modules", "@techstark", "opencv-js"));

function ready(cv) {
  return Promise.resolve(cv).then(function (c) {
    if (c.Mat) return c;
    return new Promise(function (resolve) { c.onRuntimeInitialized = function () { resolve(c); }; });
  });
}

ready(opencv).then(function (cv) {
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  for (const job of jobs) {
    const rgba = new Uint8Array(fs.readFileSync(job.rgba));
    if (job.mode === "bands") {
      const rgb = new Uint8Array(job.w * job.h * 3);
      for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
        rgb[j] = rgba[i]; rgb[j + 1] = rgba[i + 1]; rgb[j + 2] = rgba[i + 2];
      }
      const small = core.shrinkRGB(cv, rgb, job.w, job.h, 512);
      const b = core.bandHashes(cv, small.rgb, small.w, small.h);
      console.log(JSON.stringify({ bands: core.hex(b.hashes), qualities: Array.from(b.qualities) }));
    } else {
      const fp = core.fingerprintPixels(cv, rgba, job.w, job.h, { level: "features" });
      const older = core.fingerprintPixels(cv, rgba, job.w, job.h, { level: "features", bands: false });
      console.log(JSON.stringify({
        fingerprint: Buffer.from(core.toBytes(fp)).toString("base64"),
        without_bands: Buffer.from(core.toBytes(older)).toString("base64"),
      }));
    }
  }
});
