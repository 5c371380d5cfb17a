/**
 * CSS colours a site's branding may use. Values end up inside a generated
 * stylesheet, so the accepted grammar is deliberately small: hex, the rgb/hsl
 * functions over digits only, or a named colour. None of them can contain
 * `;`, `}`, quotes, backslashes or `<`, so no value can leave its declaration.
 * config/schema.json carries the same definition (`definitions.cssColor`);
 * test/ui-branding.test.ts checks the two agree.
 */
export const CSS_NAMED_COLORS: readonly string[] = [
  'aliceblue', 'antiquewhite', 'aqua', 'aquamarine', 'azure', 'beige', 'bisque', 'black', 'blanchedalmond', 'blue',
  'blueviolet', 'brown', 'burlywood', 'cadetblue', 'chartreuse', 'chocolate', 'coral', 'cornflowerblue', 'cornsilk',
  'crimson', 'cyan', 'darkblue', 'darkcyan', 'darkgoldenrod', 'darkgray', 'darkgreen', 'darkgrey', 'darkkhaki',
  'darkmagenta', 'darkolivegreen', 'darkorange', 'darkorchid', 'darkred', 'darksalmon', 'darkseagreen', 'darkslateblue',
  'darkslategray', 'darkslategrey', 'darkturquoise', 'darkviolet', 'deeppink', 'deepskyblue', 'dimgray', 'dimgrey',
  'dodgerblue', 'firebrick', 'floralwhite', 'forestgreen', 'fuchsia', 'gainsboro', 'ghostwhite', 'gold', 'goldenrod',
  'gray', 'green', 'greenyellow', 'grey', 'honeydew', 'hotpink', 'indianred', 'indigo', 'ivory', 'khaki', 'lavender',
  'lavenderblush', 'lawngreen', 'lemonchiffon', 'lightblue', 'lightcoral', 'lightcyan', 'lightgoldenrodyellow',
  'lightgray', 'lightgreen', 'lightgrey', 'lightpink', 'lightsalmon', 'lightseagreen', 'lightskyblue', 'lightslategray',
  'lightslategrey', 'lightsteelblue', 'lightyellow', 'lime', 'limegreen', 'linen', 'magenta', 'maroon',
  'mediumaquamarine', 'mediumblue', 'mediumorchid', 'mediumpurple', 'mediumseagreen', 'mediumslateblue',
  'mediumspringgreen', 'mediumturquoise', 'mediumvioletred', 'midnightblue', 'mintcream', 'mistyrose', 'moccasin',
  'navajowhite', 'navy', 'oldlace', 'olive', 'olivedrab', 'orange', 'orangered', 'orchid', 'palegoldenrod', 'palegreen',
  'paleturquoise', 'palevioletred', 'papayawhip', 'peachpuff', 'peru', 'pink', 'plum', 'powderblue', 'purple',
  'rebeccapurple', 'red', 'rosybrown', 'royalblue', 'saddlebrown', 'salmon', 'sandybrown', 'seagreen', 'seashell',
  'sienna', 'silver', 'skyblue', 'slateblue', 'slategray', 'slategrey', 'snow', 'springgreen', 'steelblue', 'tan',
  'teal', 'thistle', 'tomato', 'turquoise', 'violet', 'wheat', 'white', 'whitesmoke', 'yellow', 'yellowgreen',
  'transparent',
];

const HEX = '^#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$';
const FUNCTION = '^(rgb|rgba|hsl|hsla)\\([0-9., %/deg]{1,60}\\)$';

/** JSON Schema of one colour (same as config/schema.json#/definitions/cssColor). */
export const CSS_COLOR_SCHEMA = {
  anyOf: [
    { type: 'string', pattern: HEX },
    { type: 'string', pattern: FUNCTION },
    { type: 'string', enum: CSS_NAMED_COLORS },
  ],
} as const;

const hex = new RegExp(HEX);
const fn = new RegExp(FUNCTION);
const named = new Set(CSS_NAMED_COLORS);

/** True when `value` is a colour this module accepts (checked again right before CSS is written). */
export function isCssColor(value: unknown): value is string {
  return typeof value === 'string' && (hex.test(value) || fn.test(value) || named.has(value));
}

/** Branding colour keys and the theme custom property each sets. */
export const BRANDING_COLOR_PROPERTIES = {
  primary: '--sb-primary',
  primaryText: '--sb-primary-text',
  background: '--sb-background',
  surface: '--sb-surface',
  text: '--sb-text',
  muted: '--sb-muted',
  border: '--sb-border',
  link: '--sb-link',
  focus: '--sb-focus',
} as const;

export type BrandingColorKey = keyof typeof BRANDING_COLOR_PROPERTIES;
