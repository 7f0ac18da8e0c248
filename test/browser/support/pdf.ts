/**
 * Just enough PDF reading for Chromium's own output (Skia writes its objects uncompressed; only
 * the streams are): the number of pages, counted two ways that must agree, the first page's size
 * in points, and the names of the embedded fonts.
 */
export function readPdf(bytes: Buffer): { pages: number; declaredPages: number; width: number; height: number; fonts: string[] } {
  const text = bytes.toString("latin1");
  if (!text.startsWith("%PDF-")) throw new Error("not a PDF");
  // Each page object is "/Type /Page"; the page tree's own "/Type /Pages" is not one.
  const pages = (text.match(/\/Type\s*\/Page(?![A-Za-z])/g) ?? []).length;
  const counts = [...text.matchAll(/\/Type\s*\/Pages\b[^>]*?\/Count\s+(\d+)|\/Count\s+(\d+)[^>]*?\/Type\s*\/Pages\b/g)]
    .map((m) => Number(m[1] ?? m[2]));
  const box = /\/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]/.exec(text);
  if (!box) throw new Error("no /MediaBox in the PDF");
  // Embedded fonts are subsets named "ABCDEF+NotoSansCJKjp-Regular"; keep the family part.
  const fonts = [...new Set([...text.matchAll(/\/FontName\s*\/(?:[A-Z]{6}\+)?([^\s/<>[\]()]+)/g)].map((m) => m[1]!))].sort();
  return {
    pages,
    fonts,
    declaredPages: counts.length > 0 ? Math.max(...counts) : -1,
    width: Number(box[3]) - Number(box[1]),
    height: Number(box[4]) - Number(box[2]),
  };
}

/** A4 in PDF points (1/72 in): 210 x 297 mm. */
export const A4_POINTS = { width: (210 / 25.4) * 72, height: (297 / 25.4) * 72 };
