// Jium fingerprints made on the person's own device: the same PDQ hashes, ORB features and band
// hashes as the server's app/matching/fingerprint.py (fingerprint_reference) and bands.py, from
// decoded pixels.
//
// Pure functions over pixel arrays and an OpenCV.js module (`cv`): no DOM, no network. Used by
// the page's worker (worker.js) and by Node in the tests. Every step mirrors a line of
// fingerprint.py; when that file changes, this one must change with it (tests compare the two).
(function (root) {
  "use strict";

  var FORMAT_VERSION = 1;
  var PDQ_SIDE = 512;
  var FEATURE_SIDE = 800;
  var REFERENCE_FEATURES = 1500;
  var MAX_UPSCALE = 2.5;
  var GRID = 8;
  // The server decodes a large JPEG at a reduced DCT scale, never below this long side
  // (app/matching/decode.py DEFAULT_DRAFT_SIZE); the browser cannot, so it averages down by the
  // same integer factor instead.
  var DRAFT_SIZE = 1024;
  var FLAG_DIHEDRAL = 1, FLAG_TRIM = 2, FLAG_FEATURES = 4, FLAG_MIRROR = 8, FLAG_BANDS = 16;
  // bands.py BANDS: (left, top, right, bottom) as fractions of the picture, in the same order.
  var BANDS = [
    [0.0, 0.0, 1.0, 0.10],
    [0.0, 0.0, 1.0, 0.15],
    [0.0, 0.0, 1.0, 0.20],
    [0.0, 0.0, 1.0, 0.30],
    [0.0, 0.0, 1.0, 0.40],
    [0.0, 0.0, 0.08, 1.0],
    [0.0, 0.0, 0.12, 1.0],
    [0.92, 0.0, 1.0, 1.0],
    [0.88, 0.0, 1.0, 1.0],
  ];
  var LUMA = [0.299, 0.587, 0.114];

  // Python's round(): halves to even (sizes computed with it must agree to the pixel).
  function pyRound(x) {
    var f = Math.floor(x), d = x - f;
    if (d > 0.5) return f + 1;
    if (d < 0.5) return f;
    return f % 2 === 0 ? f : f + 1;
  }

  // ------------------------------------------------------------------ PDQ
  var DCT = new Float32Array(16 * 64);
  for (var i = 0; i < 16; i++) {
    for (var j = 0; j < 64; j++) {
      DCT[i * 64 + j] = Math.sqrt(2 / 64) * Math.cos((Math.PI / 2 / 64) * (i + 1) * (2 * j + 1));
    }
  }

  var tapCache = {};
  // For an axis of n samples: the 64 outputs of PDQ's two Jarosz box passes and decimation,
  // each a weighted sum of k consecutive inputs from start[r] (fingerprint.py _pdq_taps).
  function pdqTaps(n) {
    if (tapCache[n]) return tapCache[n];
    var full = Math.max(1, Math.floor((n + 2 * 64 - 1) / (2 * 64)));
    var half = Math.floor((full + 2) / 2);
    var behind = full - half, ahead = half - 1;
    var k = Math.min(2 * full - 1, n);
    var start = new Int32Array(64), weights = new Float32Array(64 * k);
    var row = new Float64Array(n);
    for (var r = 0; r < 64; r++) {
      var sel = Math.floor(((r + 0.5) * n) / 64);
      row.fill(0);
      var lo = Math.max(0, sel - behind), hi = Math.min(n - 1, sel + ahead);
      for (var jj = lo; jj <= hi; jj++) {
        var w1 = 1 / (hi - lo + 1);
        var lo2 = Math.max(0, jj - behind), hi2 = Math.min(n - 1, jj + ahead);
        var w2 = 1 / (hi2 - lo2 + 1);
        for (var t = lo2; t <= hi2; t++) row[t] += w1 * w2;
      }
      var s = Math.min(Math.max(sel - 2 * behind, 0), n - k);
      start[r] = s;
      for (var q = 0; q < k; q++) weights[r * k + q] = row[s + q];
    }
    return (tapCache[n] = { k: k, start: start, weights: weights });
  }

  // PDQ hash (Uint8Array(32)) and quality of an RGB image (3 bytes a pixel, w x h).
  function pdqOfSmall(rgb, w, h) {
    if (!w || !h) throw new Error("empty image");
    var rt = pdqTaps(h), ct = pdqTaps(w);
    // Rows first (64 x w), in RGB, then luma: the same order of linear steps as the server.
    var filtered = new Float64Array(64 * w);
    var acc = new Float64Array(w * 3);
    for (var r = 0; r < 64; r++) {
      acc.fill(0);
      for (var q = 0; q < rt.k; q++) {
        var wt = rt.weights[r * rt.k + q];
        var base = (rt.start[r] + q) * w * 3;
        for (var x = 0; x < w * 3; x++) acc[x] += wt * rgb[base + x];
      }
      for (var x2 = 0; x2 < w; x2++) {
        filtered[r * w + x2] = acc[x2 * 3] * LUMA[0] + acc[x2 * 3 + 1] * LUMA[1] + acc[x2 * 3 + 2] * LUMA[2];
      }
    }
    var a = new Float64Array(64 * 64);
    for (var r2 = 0; r2 < 64; r2++) {
      for (var c = 0; c < 64; c++) {
        var sum = 0, s0 = ct.start[c];
        for (var q2 = 0; q2 < ct.k; q2++) sum += ct.weights[c * ct.k + q2] * filtered[r2 * w + s0 + q2];
        a[r2 * 64 + c] = Math.fround(sum);
      }
    }
    return pdqOfBuffer(a);
  }

  // PDQ's hash and quality steps on a filtered, decimated 64 x 64 luma buffer (row-major; values
  // float32-exact): fingerprint.py _pdq_of_buffer, and bands.py _hash_buffers for each band.
  function pdqOfBuffer(a) {
    // dct = D a D^T (16 x 16)
    var tmp = new Float64Array(16 * 64);
    for (var i1 = 0; i1 < 16; i1++) {
      for (var c1 = 0; c1 < 64; c1++) {
        var s1 = 0;
        for (var r3 = 0; r3 < 64; r3++) s1 += DCT[i1 * 64 + r3] * a[r3 * 64 + c1];
        tmp[i1 * 64 + c1] = s1;
      }
    }
    var flat = new Float64Array(256);
    for (var i2 = 0; i2 < 16; i2++) {
      for (var j2 = 0; j2 < 16; j2++) {
        var s2 = 0;
        for (var c2 = 0; c2 < 64; c2++) s2 += tmp[i2 * 64 + c2] * DCT[j2 * 64 + c2];
        flat[i2 * 16 + j2] = Math.fround(s2);
      }
    }
    var sorted = Float64Array.from(flat).sort();
    var median = sorted[127];
    var code = new Uint8Array(32);
    for (var m = 0; m < 256; m++) {
      if (flat[255 - m] > median) code[m >> 3] |= 0x80 >> (m & 7);
    }
    var grad = 0;
    for (var y = 0; y < 63; y++) {
      for (var x3 = 0; x3 < 64; x3++) grad += Math.abs(Math.trunc(Math.fround((Math.fround(a[y * 64 + x3] - a[(y + 1) * 64 + x3]) * 100) / 255)));
    }
    for (var y2 = 0; y2 < 64; y2++) {
      for (var x4 = 0; x4 < 63; x4++) grad += Math.abs(Math.trunc(Math.fround((Math.fround(a[y2 * 64 + x4] - a[y2 * 64 + x4 + 1]) * 100) / 255)));
    }
    return { hash: code, quality: Math.min(Math.floor(Math.trunc(grad) / 90), 100) };
  }

  // The 7 other rotations/flips, in fingerprint.py's _DIHEDRAL order, as (x, y) -> source index.
  function dihedral(rgb, w, h, t) {
    var swap = t === 0 || t === 2 || t === 5 || t === 6; // quarter turns and transposes
    var ow = swap ? h : w, oh = swap ? w : h;
    var out = new Uint8Array(ow * oh * 3);
    for (var i = 0; i < oh; i++) {
      for (var j = 0; j < ow; j++) {
        var sy, sx;
        switch (t) {
          case 0: sy = j; sx = w - 1 - i; break; // rot90(a, 1)
          case 1: sy = h - 1 - i; sx = w - 1 - j; break; // rot90(a, 2)
          case 2: sy = h - 1 - j; sx = i; break; // rot90(a, 3)
          case 3: sy = i; sx = w - 1 - j; break; // a[:, ::-1]
          case 4: sy = h - 1 - i; sx = j; break; // a[::-1, :]
          case 5: sy = j; sx = i; break; // rot90(a[:, ::-1], 1): the transpose
          default: sy = h - 1 - j; sx = w - 1 - i; // rot90(a[:, ::-1], 3)
        }
        var s = (sy * w + sx) * 3, d = (i * ow + j) * 3;
        out[d] = rgb[s]; out[d + 1] = rgb[s + 1]; out[d + 2] = rgb[s + 2];
      }
    }
    return { rgb: out, w: ow, h: oh };
  }

  // ------------------------------------------------------------------ OpenCV helpers
  function matRGB(cv, rgb, w, h) {
    var m = new cv.Mat(h, w, cv.CV_8UC3);
    m.data.set(rgb);
    return m;
  }

  function shrinkRGB(cv, rgb, w, h, side) {
    if (Math.max(w, h) <= side) return { rgb: rgb, w: w, h: h };
    var s = side / Math.max(w, h);
    var nw = Math.max(1, pyRound(w * s)), nh = Math.max(1, pyRound(h * s));
    var src = matRGB(cv, rgb, w, h), dst = new cv.Mat();
    cv.resize(src, dst, new cv.Size(nw, nh), 0, 0, cv.INTER_AREA);
    var out = new Uint8Array(dst.data);
    src.delete(); dst.delete();
    return { rgb: out, w: nw, h: nh };
  }

  // ------------------------------------------------------------------ band hashes (bands.py)
  // What an "undress" edit keeps: the top of the picture and its side strips, each area-averaged
  // to 64 x 64 and hashed like PDQ. Without them an edit of a device-made reference is found only
  // when enough keypoints survive; with them the server nominates it for guided verification.
  // rgb: the picture already shrunk for PDQ. Returns 9 x 32 hash bytes and 9 quality bytes.
  function bandHashes(cv, rgb, w, h) {
    var src = matRGB(cv, rgb, w, h), gray = new cv.Mat(), buf = new cv.Mat();
    cv.cvtColor(src, gray, cv.COLOR_RGB2GRAY); // OpenCV's fixed-point luma, as on the server
    src.delete();
    var hashes = new Uint8Array(BANDS.length * 32), qualities = new Uint8Array(BANDS.length);
    var a = new Float64Array(64 * 64);
    for (var i = 0; i < BANDS.length; i++) {
      var b = BANDS[i];
      var left = Math.min(pyRound(b[0] * w), w - 1), top = Math.min(pyRound(b[1] * h), h - 1);
      // numpy's slice gray[top:max(round(y1 h), top + 1), left:...] stops at the edge.
      var right = Math.min(Math.max(pyRound(b[2] * w), left + 1), w);
      var bottom = Math.min(Math.max(pyRound(b[3] * h), top + 1), h);
      var roi = gray.roi(new cv.Rect(left, top, right - left, bottom - top));
      cv.resize(roi, buf, new cv.Size(64, 64), 0, 0, cv.INTER_AREA);
      roi.delete();
      var d = buf.data; // (a getter that makes a new view each time: read it once)
      for (var p = 0; p < 64 * 64; p++) a[p] = d[p]; // uint8, as cv2.resize returns it
      var r = pdqOfBuffer(a);
      hashes.set(r.hash, i * 32);
      qualities[i] = r.quality;
    }
    gray.delete(); buf.delete();
    return { hashes: hashes, qualities: qualities };
  }

  // ------------------------------------------------------------------ borders (trim)
  function trimBox(cv, rgb, fullW, fullH, tolerance) {
    tolerance = tolerance === undefined ? 14 : tolerance;
    var k = Math.max(1, Math.floor(Math.max(fullH, fullW) / 256));
    var src = matRGB(cv, rgb, fullW, fullH), gray = new cv.Mat();
    cv.cvtColor(src, gray, cv.COLOR_RGB2GRAY);
    src.delete();
    if (k > 1) {
      var roi = gray.roi(new cv.Rect(0, 0, Math.floor(fullW / k) * k, Math.floor(fullH / k) * k));
      var small = new cv.Mat();
      cv.resize(roi, small, new cv.Size(Math.floor(fullW / k), Math.floor(fullH / k)), 0, 0, cv.INTER_AREA);
      roi.delete(); gray.delete();
      gray = small;
    }
    var w = gray.cols, h = gray.rows, g = new Uint8Array(gray.data);
    gray.delete();
    if (h < 16 || w < 16) return null;
    var corners = [g[0], g[w - 1], g[(h - 1) * w], g[(h - 1) * w + w - 1]];
    var uniq = Array.from(new Set(corners)).sort(function (p, q) { return p - q; });
    var colours = uniq.filter(function (c) {
      var near = function (v) { return Math.abs(v - c) <= tolerance; };
      var sums = [0, 0, 0, 0];
      for (var x = 0; x < w; x++) { sums[0] += near(g[x]); sums[1] += near(g[(h - 1) * w + x]); }
      for (var y = 0; y < h; y++) { sums[2] += near(g[y * w]); sums[3] += near(g[y * w + w - 1]); }
      var lengths = [w, w, h, h];
      return sums.some(function (s, i) { return 50 * s >= 49 * lengths[i]; });
    });
    if (!colours.length) return null;
    var top = 0, bottom = 0, left = 0, right = 0;
    for (var ci = 0; ci < colours.length; ci++) {
      var lo = Math.max(colours[ci] - tolerance, 0), hi = Math.min(colours[ci] + tolerance, 255);
      var rowCount = new Int32Array(h), colCount = new Int32Array(w);
      for (var y2 = 0; y2 < h; y2++) {
        for (var x2 = 0; x2 < w; x2++) {
          var v = g[y2 * w + x2];
          if (v >= lo && v <= hi) { rowCount[y2]++; colCount[x2]++; }
        }
      }
      var rows = Array.from(rowCount, function (n) { return 50 * n >= 49 * w; });
      var cols = Array.from(colCount, function (n) { return 50 * n >= 49 * h; });
      if (rows.every(Boolean) || cols.every(Boolean)) return null; // a flat image
      var firstFalse = function (arr) { var i = arr.indexOf(false); return i < 0 ? 0 : i; };
      top = Math.max(top, firstFalse(rows));
      bottom = Math.max(bottom, firstFalse(rows.slice().reverse()));
      left = Math.max(left, firstFalse(cols));
      right = Math.max(right, firstFalse(cols.slice().reverse()));
    }
    if (top + bottom + left + right < 2) return null;
    if (h - top - bottom < h * 0.3 || w - left - right < w * 0.3) return null;
    var pad = Math.max(k, 2);
    var box = [
      Math.min(left * k + (left ? pad : 0), fullW - 1),
      Math.min(top * k + (top ? pad : 0), fullH - 1),
      right ? Math.max((w - right) * k - pad, 1) : fullW,
      bottom ? Math.max((h - bottom) * k - pad, 1) : fullH,
    ];
    if (box[2] <= box[0] || box[3] <= box[1]) return null;
    return box;
  }

  function cropRGB(rgb, w, box) {
    var cw = box[2] - box[0], ch = box[3] - box[1], out = new Uint8Array(cw * ch * 3);
    for (var y = 0; y < ch; y++) {
      var s = ((box[1] + y) * w + box[0]) * 3;
      out.set(rgb.subarray(s, s + cw * 3), y * cw * 3);
    }
    return { rgb: out, w: cw, h: ch };
  }

  // ------------------------------------------------------------------ ORB
  function orbFeatures(cv, gray, n, side) {
    // gray: cv.Mat (CV_8UC1) of the full image; not deleted here.
    var h = gray.rows, w = gray.cols;
    var scale = Math.min(side / Math.max(h, w), MAX_UPSCALE);
    var img = gray, owned = false;
    if (Math.abs(scale - 1) > 0.02) {
      img = new cv.Mat();
      owned = true;
      cv.resize(gray, img, new cv.Size(Math.max(1, pyRound(w * scale)), Math.max(1, pyRound(h * scale))), 0, 0,
        scale < 1 ? cv.INTER_AREA : cv.INTER_LINEAR);
    }
    var fw = img.cols, fh = img.rows;
    var orb = new cv.ORB(n * 3, 1.2, 8, 19, 0, 2, cv.ORB_HARRIS_SCORE, 31, 12);
    var kps = new cv.KeyPointVector(), none = new cv.Mat();
    orb.detect(img, kps, none);
    var count = kps.size(), list = [];
    for (var i = 0; i < count; i++) list.push(kps.get(i));
    kps.delete();
    var chosenList = list;
    if (count > n) {
      // Round-robin over an 8 x 8 grid, strongest first within each cell (fingerprint.py).
      var resp = new Float32Array(count), cell = new Int32Array(count);
      for (var i1 = 0; i1 < count; i1++) {
        var p = list[i1];
        resp[i1] = p.response;
        var cy = Math.min(Math.floor((Math.fround(p.pt.y) * GRID) / fh), GRID - 1);
        var cx = Math.min(Math.floor((Math.fround(p.pt.x) * GRID) / fw), GRID - 1);
        cell[i1] = cy * GRID + cx;
      }
      var idx = Array.from({ length: count }, function (_, j) { return j; });
      var order = idx.slice().sort(function (a, b) { return cell[a] - cell[b] || resp[b] - resp[a] || a - b; });
      var rank = new Int32Array(count), groupStart = 0;
      for (var pos = 0; pos < count; pos++) {
        if (pos > 0 && cell[order[pos]] !== cell[order[pos - 1]]) groupStart = pos;
        rank[order[pos]] = pos - groupStart;
      }
      var take = idx.slice().sort(function (a, b) { return rank[a] - rank[b] || resp[b] - resp[a] || a - b; }).slice(0, n);
      var chosen = new Uint8Array(count);
      take.forEach(function (t) { chosen[t] = 1; });
      chosenList = list.filter(function (_, j) { return chosen[j]; });
    }
    var sel = new cv.KeyPointVector();
    chosenList.forEach(function (kp) { sel.push_back(kp); });
    var desc = new cv.Mat();
    var xy = new Float32Array(0), d = new Uint8Array(0);
    if (chosenList.length) {
      orb.compute(img, sel, desc);
      var m = desc.rows ? sel.size() : 0;
      xy = new Float32Array(m * 2);
      for (var i2 = 0; i2 < m; i2++) {
        var kp = sel.get(i2);
        xy[i2 * 2] = kp.pt.x;
        xy[i2 * 2 + 1] = kp.pt.y;
      }
      d = new Uint8Array(desc.data.subarray(0, m * 32));
    }
    sel.delete(); desc.delete(); none.delete(); orb.delete();
    if (owned) img.delete();
    return { size: [fw, fh], xy: xy, desc: d };
  }

  // ------------------------------------------------------------------ the fingerprint
  // Pixel size at which the server's decoder hands over a JPEG of w x h (Pillow's draft()).
  function draftScale(w, h) {
    if (Math.max(w, h) <= DRAFT_SIZE) return 1;
    var s = Math.min(1, DRAFT_SIZE / Math.max(w, h));
    var rw = Math.max(1, Math.floor(w * s)), rh = Math.max(1, Math.floor(h * s));
    var scale = Math.min(Math.floor(w / rw), Math.floor(h / rh));
    var scales = [8, 4, 2, 1];
    for (var i = 0; i < scales.length; i++) if (scale >= scales[i]) return scales[i];
    return 1;
  }

  // rgba: Uint8ClampedArray/Uint8Array of w x h x 4 (alpha already composited on white).
  // options.level: "hash" (PDQ only) or "features" (PDQ + ORB and mirrored ORB).
  // options.jpeg: the file is a JPEG (the server would have decoded it at a reduced scale).
  // options.bands === false: no band hashes (what the page made before them; for the bench and
  // tests, which measure what they cost and what they find).
  function fingerprintPixels(cv, rgba, w, h, options) {
    options = options || {};
    var level = options.level === "hash" ? "hash" : "features";
    var src = new cv.Mat(h, w, cv.CV_8UC4);
    src.data.set(rgba);
    var rgbMat = new cv.Mat();
    cv.cvtColor(src, rgbMat, cv.COLOR_RGBA2RGB);
    src.delete();
    var k = options.jpeg ? draftScale(w, h) : 1;
    if (k > 1) {
      var reduced = new cv.Mat();
      cv.resize(rgbMat, reduced, new cv.Size(Math.ceil(w / k), Math.ceil(h / k)), 0, 0, cv.INTER_AREA);
      rgbMat.delete();
      rgbMat = reduced;
    }
    var pw = rgbMat.cols, ph = rgbMat.rows;
    var rgb = new Uint8Array(rgbMat.data);
    var small = shrinkRGB(cv, rgb, pw, ph, PDQ_SIDE);
    var first = pdqOfSmall(small.rgb, small.w, small.h);
    var fp = { pdq: first.hash, quality: first.quality, dihedral: [], trim: null, trimQuality: 0,
      featureSize: [0, 0], xy: new Float32Array(0), desc: new Uint8Array(0),
      mirrorXy: new Float32Array(0), mirrorDesc: new Uint8Array(0), bands: null, bandQualities: null,
      width: options.width || w, height: options.height || h };
    for (var t = 0; t < 7; t++) {
      var v = dihedral(small.rgb, small.w, small.h, t);
      fp.dihedral.push(pdqOfSmall(v.rgb, v.w, v.h).hash);
    }
    var box = trimBox(cv, small.rgb, small.w, small.h);
    if (box) {
      var c = cropRGB(small.rgb, small.w, box);
      var tr = pdqOfSmall(c.rgb, c.w, c.h);
      fp.trim = tr.hash;
      fp.trimQuality = tr.quality;
    }
    if (level === "features") {
      var gray = new cv.Mat();
      cv.cvtColor(rgbMat, gray, cv.COLOR_RGB2GRAY);
      var f = orbFeatures(cv, gray, REFERENCE_FEATURES, FEATURE_SIDE);
      fp.featureSize = f.size; fp.xy = f.xy; fp.desc = f.desc;
      if (f.desc.length) {
        cv.flip(gray, gray, 1);
        var mf = orbFeatures(cv, gray, REFERENCE_FEATURES, FEATURE_SIDE);
        fp.mirrorXy = mf.xy; fp.mirrorDesc = mf.desc;
      }
      gray.delete();
      if (f.desc.length && options.bands !== false) {
        // Only with features (a hash-only fingerprint has none, as on the server): a band only
        // nominates a reference for a verification that needs its keypoints, and the server
        // refuses band hashes without them (app/matching/document.py).
        var bh = bandHashes(cv, small.rgb, small.w, small.h);
        fp.bands = bh.hashes;
        fp.bandQualities = bh.qualities;
      }
    }
    rgbMat.delete();
    fp.level = level;
    return fp;
  }

  // ------------------------------------------------------------------ serialisation
  // The server's binary layout (Fingerprint.to_bytes, format 1), so it reads it unchanged. The
  // band block (flag 16) comes last; a server reads a fingerprint without one as before.
  function toBytes(fp) {
    var hasFeatures = fp.desc.length > 0, hasMirror = fp.mirrorDesc.length > 0;
    var flags = (fp.dihedral.length ? FLAG_DIHEDRAL : 0) | (fp.trim ? FLAG_TRIM : 0) |
      (hasFeatures ? FLAG_FEATURES : 0) | (hasMirror ? FLAG_MIRROR : 0) | (fp.bands ? FLAG_BANDS : 0);
    var parts = [new Uint8Array([0x4a, 0x46, 0x50, FORMAT_VERSION, flags]), fp.pdq, new Uint8Array([fp.quality])];
    if (fp.dihedral.length) {
      parts.push(new Uint8Array([fp.dihedral.length]));
      fp.dihedral.forEach(function (d) { parts.push(d); });
    }
    if (fp.trim) { parts.push(fp.trim); parts.push(new Uint8Array([fp.trimQuality])); }
    function features(xy, desc) {
      var n = desc.length / 32, head = new Uint8Array(4), dv = new DataView(head.buffer);
      dv.setUint32(0, n, true);
      var q = new Uint8Array(n * 4), qv = new DataView(q.buffer);
      for (var i = 0; i < n * 2; i++) qv.setUint16(i * 2, Math.min(Math.max(pyRound(xy[i] * 4), 0), 65535), true);
      parts.push(head, q, desc);
    }
    if (hasFeatures) {
      var size = new Uint8Array(4), sv = new DataView(size.buffer);
      sv.setUint16(0, fp.featureSize[0], true);
      sv.setUint16(2, fp.featureSize[1], true);
      parts.push(size);
      features(fp.xy, fp.desc);
    }
    if (hasMirror) features(fp.mirrorXy, fp.mirrorDesc);
    if (fp.bands) { parts.push(fp.bands); parts.push(fp.bandQualities); }
    var total = parts.reduce(function (s, p) { return s + p.length; }, 0);
    var out = new Uint8Array(total), o = 0;
    parts.forEach(function (p) { out.set(p, o); o += p.length; });
    return out;
  }

  function hex(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return s;
  }

  function base64(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }

  // The JSON-serialisable fingerprint object the page hands out (window.Jium.fingerprintFile).
  function toJSON(fp, name) {
    return {
      name: name,
      level: fp.level,
      pdq: hex(fp.pdq),
      quality: fp.quality,
      features: fp.desc.length / 32,
      width: fp.width,
      height: fp.height,
      fingerprint: base64(toBytes(fp)),
    };
  }

  root.JiumCore = {
    FORMAT_VERSION: FORMAT_VERSION,
    pdqOfSmall: pdqOfSmall,
    bandHashes: bandHashes,
    shrinkRGB: shrinkRGB,
    fingerprintPixels: fingerprintPixels,
    toBytes: toBytes,
    toJSON: toJSON,
    hex: hex,
    draftScale: draftScale,
  };
  if (typeof module === "object" && module.exports) module.exports = root.JiumCore;
})(typeof self !== "undefined" ? self : this);
