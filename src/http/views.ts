import Handlebars from "handlebars";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

type Template = Handlebars.TemplateDelegate;
type Render = (filePath: string, options: object, callback: (error: unknown, html?: string) => void) => void;

const EXTENSION = ".hbs";

/** Every `.hbs` file under `dir`, by its path relative to `dir` without the extension ("guarantees/summary"). */
function templateFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(EXTENSION)) continue;
    const file = path.join(entry.parentPath, entry.name);
    files.set(path.relative(dir, file).slice(0, -EXTENSION.length).split(path.sep).join("/"), file);
  }
  return files;
}

/** The partials a template names ({{> name}}); a partial chosen at render time has no name here. */
function partialNames(ast: hbs.AST.Program): string[] {
  const names: string[] = [];
  class Collect extends Handlebars.Visitor {
    override PartialStatement(partial: hbs.AST.PartialStatement): void {
      if (partial.name.type === "PathExpression") names.push((partial.name as hbs.AST.PathExpression).original);
      super.PartialStatement(partial);
    }
  }
  new Collect().accept(ast);
  return names;
}

/**
 * The Express view engine for `views/`: Handlebars, every template compiled at start-up and every
 * partial it names looked up (a broken one stops the service from starting instead of failing a
 * page), `partials/*` as partials, and each page rendered into `layouts/main` as `{{{body}}}`.
 * Rendering is synchronous: the page's template, then the layout, on the same view model.
 * express-handlebars did the same through promises, path lookups and a merge of helpers and
 * partials per render (its cost is in docs/BENCHMARKS.md).
 */
export function createViewEngine(viewsDir: string): Render {
  const handlebars = Handlebars.create();
  const templates = new Map<string, Template>();
  const partialsUsed = new Map<string, string>();
  for (const [name, file] of templateFiles(viewsDir)) {
    const source = readFileSync(file, "utf8");
    let ast: hbs.AST.Program;
    // compile() alone would wait for the first render to find a mistake: parse and compile now.
    try {
      ast = handlebars.parse(source);
      handlebars.precompile(ast);
    } catch (error) {
      throw new Error(`views: ${path.relative(viewsDir, file)} cannot be compiled: ${(error as Error).message}`);
    }
    for (const partial of partialNames(ast)) partialsUsed.set(partial, name);
    if (name.startsWith("partials/")) handlebars.registerPartial(name.slice("partials/".length), handlebars.compile(ast));
    else templates.set(path.resolve(file), handlebars.compile(ast));
  }
  for (const [partial, user] of partialsUsed) {
    if (!(partial in handlebars.partials)) throw new Error(`views: ${user}${EXTENSION} uses the partial "${partial}", which is not in partials/`);
  }
  const layout = templates.get(path.resolve(viewsDir, "layouts", `main${EXTENSION}`));
  if (!layout) throw new Error(`no layouts/main${EXTENSION} in ${viewsDir}`);

  return (filePath, options, callback) => {
    // Express hands over the absolute path it resolved; it is the key as it was found at start-up.
    const page = templates.get(filePath) ?? templates.get(path.resolve(filePath));
    if (!page) return callback(new Error(`no template ${filePath} was found at start-up`));
    let html: string;
    try {
      html = layout({ ...options, body: page(options) });
    } catch (error) {
      return callback(error);
    }
    callback(null, html);
  };
}
