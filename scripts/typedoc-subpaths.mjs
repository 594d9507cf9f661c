// TypeDoc plugin: name each documented module after the import path users write
// (`otpkit/redis`), not after its source file (`store/redis`). Used by typedoc.json.
import { Converter } from 'typedoc';

const NAMES = {
  index: 'otpkit',
  qr: 'otpkit/qr',
  'store/redis': 'otpkit/redis',
  'store/postgres': 'otpkit/postgres',
  'store/sqlite': 'otpkit/sqlite',
  'store/d1': 'otpkit/d1',
  testing: 'otpkit/testing',
};

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const mod of context.project.children ?? []) {
      const name = NAMES[mod.name];
      if (name === undefined) {
        app.logger.error(`typedoc-subpaths: no import path known for module "${mod.name}"`);
      } else {
        mod.name = name;
      }
    }
  });
}
