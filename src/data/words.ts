/**
 * Word lists for text images, documents and charts. They avoid the held-out
 * shape and colour names so base data never spells them out either.
 */

/** Short words (3-5 letters) for OCR images. */
export const SHORT_WORDS: readonly string[] = [
  'apple', 'bird', 'boat', 'book', 'bread', 'cake', 'car', 'cat', 'chair', 'clock',
  'cloud', 'coat', 'cup', 'desk', 'dog', 'door', 'duck', 'egg', 'fish', 'flag',
  'frog', 'gate', 'goat', 'hat', 'horse', 'house', 'key', 'kite', 'lamp', 'leaf',
  'lion', 'map', 'milk', 'moon', 'mouse', 'nest', 'note', 'owl', 'pen', 'pig',
  'plant', 'rain', 'ring', 'road', 'rock', 'rose', 'sand', 'ship', 'shoe', 'snow',
  'sock', 'sun', 'table', 'tea', 'tent', 'tiger', 'train', 'tree', 'wall', 'wave',
  'whale', 'wind', 'wolf', 'yard', 'zebra', 'hello', 'open', 'stop', 'exit', 'sale',
  'menu', 'park', 'shop', 'west', 'east', 'north', 'south', 'left', 'right', 'help',
];

export const TITLE_FIRST: readonly string[] = [
  'Annual', 'Monthly', 'Weekly', 'Daily', 'Project', 'Team', 'Budget', 'Travel',
  'Sales', 'Field', 'Class', 'Garden', 'Kitchen', 'Office', 'Health', 'Market',
];

export const TITLE_SECOND: readonly string[] = [
  'Report', 'Summary', 'Review', 'Plan', 'Invoice', 'Notes', 'Budget', 'Memo',
  'Record', 'Update', 'Log', 'Order', 'Survey', 'Agenda', 'List', 'Brief',
];

export const BODY_WORDS: readonly string[] = [
  'the', 'team', 'met', 'on', 'time', 'and', 'agreed', 'to', 'ship', 'the', 'new',
  'plan', 'costs', 'were', 'lower', 'than', 'last', 'month', 'sales', 'grew', 'in',
  'all', 'regions', 'please', 'check', 'each', 'item', 'below', 'before', 'the',
  'next', 'review', 'orders', 'arrive', 'by', 'friday', 'stock', 'is', 'low', 'for',
  'two', 'items', 'we', 'will', 'hire', 'staff', 'soon', 'prices', 'may', 'rise',
  'this', 'year', 'thank', 'you', 'for', 'your', 'help', 'notes', 'follow',
];

export const TABLE_ITEMS: readonly string[] = [
  'apples', 'pears', 'bread', 'milk', 'rice', 'tea', 'eggs', 'salt', 'beans',
  'fish', 'honey', 'oats', 'corn', 'jam', 'flour', 'soap',
];

export const TABLE_COLUMNS: readonly string[] = ['Qty', 'Price', 'Cost', 'Units', 'Stock', 'Total'];

/** Bar label sets; a chart takes consecutive labels from one set, as real charts do. */
export const CHART_LABEL_SETS: readonly (readonly string[])[] = [
  ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
  ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
  ['A', 'B', 'C', 'D', 'E', 'F', 'G'],
  ['Q1', 'Q2', 'Q3', 'Q4'],
  ['kiwi', 'fig', 'plum', 'lime', 'pear', 'date'],
  ['cats', 'dogs', 'fish', 'owls', 'mice', 'ants'],
];
