// Runs before every module of dist/cmdb-hook.cjs (scripts/build-bundle.ts puts it in front as esbuild's banner).
// It exists for the single executable's V8 startup snapshot (scripts/build-executable.ts): all modules are loaded
// once at build time and the heap is saved, so a hook starts without loading yargs, got and pino again. Two kinds of
// things cannot be saved in a snapshot, and this prelude keeps them out of it:
//
// 1. The built-in modules http, https, http2 and tls: their native bindings hold handles that V8 cannot serialize
//    ("global handle not serialized"). `require` of one returns a stand-in that loads the real module on first use.
//    The stand-in lists the real module's keys (read at build time, same Node) so esbuild's import helpers can copy
//    them without loading anything; values that modules read while loading (http2.constants) are given as data, and
//    tls.checkServerIdentity as a forwarding function, so an http:// run never loads tls (and Node never parses its
//    root certificates: ~90 M instructions per run).
// 2. ICU objects (Intl.Segmenter, Intl.ListFormat, TextDecoder) that modules create while loading: while the
//    snapshot is built, their constructors return stand-ins that create the real object on first use.
//
// Outside the snapshot (the bundle run by `node`) the stand-ins cost one property lookup and spare an http:// run the
// loading of https, http2 and tls.
var __cmdbHookRequire = require;
var __cmdbHookSnapshot = __cmdbHookRequire('node:v8').startupSnapshot;

// esbuild's output calls this `require`.
var require = (function (realRequire) {
  var lazy = /* LAZY_BUILTINS */ {};
  var made = Object.create(null);

  function standIn(name, spec) {
    var real;
    var load = function () {
      if (!real) {
        if (__cmdbHookSnapshot.isBuildingSnapshot()) throw new Error('node:' + name + ' was used while the startup snapshot was built; use it inside a function');
        real = realRequire('node:' + name);
      }
      return real;
    };
    var given = Object.create(null);
    Object.assign(given, spec.data);
    spec.forward.forEach(function (key) {
      given[key] = function () { return load()[key].apply(this, arguments); };
    });
    return new Proxy({}, {
      get: function (_, key) {
        if (key in given) return given[key];
        // Probes for keys the module does not have (esbuild's __esModule, a thenable check) must not load it.
        if (typeof key === 'string' && spec.keys.indexOf(key) < 0) return undefined;
        return load()[key];
      },
      set: function (_, key, value) { load()[key] = value; return true; },
      has: function (_, key) { return spec.keys.indexOf(key) >= 0; },
      ownKeys: function () { return spec.keys.slice(); },
      getOwnPropertyDescriptor: function (_, key) {
        return spec.keys.indexOf(key) >= 0 ? { configurable: true, enumerable: true, writable: true, value: undefined } : undefined;
      },
    });
  }

  return function (id) {
    var name = String(id).replace(/^node:/, '');
    var spec = lazy[name];
    if (!spec) return realRequire(id);
    return made[name] || (made[name] = standIn(name, spec));
  };
})(__cmdbHookRequire);

if (__cmdbHookSnapshot.isBuildingSnapshot()) {
  [[Intl, 'Segmenter'], [Intl, 'ListFormat'], [globalThis, 'TextDecoder']].forEach(function (entry) {
    var owner = entry[0];
    var name = entry[1];
    var Real = owner[name];
    owner[name] = function () {
      var args = arguments;
      var real;
      var get = function () { return real || (real = Reflect.construct(Real, args)); };
      return new Proxy(Object.create(Real.prototype), {
        get: function (_, key) {
          var target = get();
          var value = target[key];
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    };
    // The real constructors are back before the heap is saved: only objects made while loading are stand-ins.
    __cmdbHookSnapshot.addSerializeCallback(function () { owner[name] = Real; });
  });
}

// The bundle is CommonJS; yargs asks for import.meta.url (scripts/build-bundle.ts defines it as this).
var __cmdbHookImportMetaUrl = __cmdbHookRequire('node:url').pathToFileURL(typeof __filename === 'string' ? __filename : process.execPath).href;
