/** The fixed pools the demo data draws from: catalogue, channels, user agents, countries and IP ranges. Not seeded. */

import { Table } from './demo-random.js';
// ---------------------------------------------------------------------------------------------
// Fixed pools. They are not seeded: the shop's catalogue and audience are the same in every run.

export type DeviceKind = 'desktop' | 'mobile' | 'tablet' | 'app';
export type Channel = 'direct' | 'organic' | 'cpc' | 'facebook' | 'instagram' | 'email' | 'referral';
export type Weighted<T> = readonly (readonly [T, number])[];

export const SHOP_NAME = 'Ensemble Shop';
export const SHOP_ORIGIN = 'https://shop.example.com';

export interface Product {
  id: string;
  sku: string;
  slug: string;
  name: string;
  category: string;
  brand: string;
  price: number;
}

/** name, brand, price in EUR (VAT included). */
export const CATALOGUE_SOURCE: Readonly<Record<string, readonly (readonly [string, string, number])[]>> = {
  Kitchen: [
    ['Cast Iron Casserole 24 cm', 'Maison Ardent', 129], ['Chef Knife 20 cm', 'Nordlys', 69],
    ['Copper Saucepan 16 cm', 'Cuivre & Co', 89], ['Espresso Machine Duo', 'Nordlys', 349],
    ['Linen Tea Towels (set of 3)', 'Maison Ardent', 19.9], ['Bamboo Cutting Board', 'Nordlys', 24.5],
    ['Ceramic Mixing Bowls (set of 3)', 'Maison Ardent', 39], ['Pepper Mill 18 cm', 'Cuivre & Co', 34.9],
    ['Stainless Steel Whisk', 'Nordlys', 9.9],
  ],
  'Home Decor': [
    ['Linen Duvet Cover 240x220', 'Atelier Lin', 119], ['Wool Throw Blanket', 'Atelier Lin', 79],
    ['Ceramic Table Lamp', 'Lumen', 99], ['Rattan Pendant Light', 'Lumen', 149],
    ['Fig Scented Candle', 'Atelier Lin', 24], ['Oak Wall Shelf', 'Bois Clair', 59],
    ['Velvet Cushion Cover', 'Atelier Lin', 19.9], ['Round Mirror 60 cm', 'Bois Clair', 89],
    ['Jute Rug 160x230', 'Bois Clair', 199],
  ],
  Garden: [
    ['Teak Garden Chair', 'Verdure', 179], ['Terracotta Pot 30 cm', 'Verdure', 29],
    ['Pruning Shears', 'Outilor', 39.9], ['Solar String Lights', 'Lumen', 24.9],
    ['Garden Hose 25 m', 'Outilor', 49], ['Herb Seed Kit', 'Verdure', 14.9],
    ['Folding Bistro Table', 'Verdure', 129], ['Charcoal Kettle Grill', 'Outilor', 389],
  ],
  Audio: [
    ['Wireless Earbuds', 'Sonora', 89], ['Mini Bluetooth Speaker', 'Sonora', 49],
    ['Noise-Cancelling Headphones', 'Sonora', 249], ['Smart Plug (2-pack)', 'Volta', 29.9],
    ['USB-C Charger 65 W', 'Volta', 39], ['Classic Turntable', 'Sonora', 299],
    ['E-reader 6 inch', 'Volta', 129], ['Silicone Phone Case', 'Volta', 19.9],
  ],
  Sports: [
    ['Yoga Mat 6 mm', 'Élan', 34.9], ['Trail Running Shoes', 'Élan', 119],
    ['Insulated Water Bottle 750 ml', 'Cime', 22], ['Resistance Bands', 'Élan', 19.9],
    ['Cycling Helmet', 'Cime', 79], ['Tennis Racket Pro', 'Élan', 159],
    ['Hiking Backpack 30 L', 'Cime', 99], ['Sports Socks (3 pairs)', 'Élan', 14.9],
  ],
  Beauty: [
    ['Rose Face Cream 50 ml', 'Belle Rive', 32], ['Argan Hair Oil', 'Belle Rive', 24.9],
    ['Lavender Soap Bar', 'Savonnerie du Sud', 6.5], ['Vitamin C Serum', 'Belle Rive', 39],
    ['Bamboo Toothbrush (4-pack)', 'Savonnerie du Sud', 9.9], ['Eau de Toilette 100 ml', 'Belle Rive', 79],
    ['Hand Cream Trio', 'Savonnerie du Sud', 18.5], ['Beard Grooming Kit', 'Savonnerie du Sud', 45],
    ['Silk Pillowcase', 'Belle Rive', 59],
  ],
};

export function slugify(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

export const CATEGORIES = Object.keys(CATALOGUE_SOURCE).map((name) => ({ name, slug: slugify(name) }));

export const CATALOGUE: readonly Product[] = Object.entries(CATALOGUE_SOURCE).flatMap(([category, items], c) =>
  items.map(([name, brand, price], k) => {
    const n = String(c * 100 + k + 1).padStart(4, '0');
    return { id: `prod-${n}`, sku: `EN-${category.slice(0, 3).toUpperCase()}-${n}`, slug: slugify(name), name, category, brand, price };
  }),
);

export const SEARCH_QUERIES = ['lampe', 'casserole', 'yoga', 'bougie', 'plaid', 'ecouteurs', 'sac a dos', 'creme visage', 'jardin', 'couteau'] as const;

export const CHANNELS: Weighted<Channel> = [
  ['direct', 0.28], ['organic', 0.27], ['cpc', 0.15], ['facebook', 0.07],
  ['instagram', 0.05], ['email', 0.08], ['referral', 0.1],
];

export const CAMPAIGNS: Partial<Record<Channel, { source: string; medium: string; names: readonly string[] }>> = {
  cpc: { source: 'google', medium: 'cpc', names: ['brand_fr', 'shopping_kitchen', 'generic_home_decor', 'summer_sale'] },
  facebook: { source: 'facebook', medium: 'social', names: ['spring_collection', 'retargeting_cart', 'new_arrivals'] },
  instagram: { source: 'instagram', medium: 'social', names: ['influencer_garden', 'spring_collection', 'reels_beauty'] },
  email: { source: 'newsletter', medium: 'email', names: ['weekly_picks', 'flash_sale', 'back_in_stock'] },
};

export const NEWSLETTERS = [
  { name: 'Weekly picks', utm: 'weekly_picks' },
  { name: 'Flash sale -20% kitchen', utm: 'flash_sale' },
  { name: 'New arrivals', utm: 'new_arrivals' },
  { name: 'Back in stock', utm: 'back_in_stock' },
] as const;

/** Blogs that link to the shop; example.* hosts because these are not real partners. */
export const REFERRAL_BLOGS = [
  'https://www.maison-et-jardin.example.net/blog/terrasse-cosy',
  'https://cuisine-facile.example.org/recettes/cocotte-en-fonte',
  'https://trail-running.example.net/tests/chaussures-2024',
  'https://beaute-naturelle.example.org/routine-soir',
] as const;

export const EMAIL_DOMAINS: Weighted<string> = [['example.com', 0.5], ['example.org', 0.25], ['example.net', 0.25]];

export const CHROME = 'AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0';
export const SAFARI = 'AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1';
export const USER_AGENTS: Readonly<Record<Exclude<DeviceKind, 'app'>, Weighted<string>>> = {
  desktop: [
    [`Mozilla/5.0 (Windows NT 10.0; Win64; x64) ${CHROME} Safari/537.36`, 0.38],
    [`Mozilla/5.0 (Windows NT 10.0; Win64; x64) ${CHROME} Safari/537.36 Edg/124.0.2478.80`, 0.12],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0', 0.1],
    [`Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) ${CHROME} Safari/537.36`, 0.14],
    [`Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) ${SAFARI} Safari/605.1.15`, 0.16],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0', 0.03],
    [`Mozilla/5.0 (X11; Linux x86_64) ${CHROME} Safari/537.36`, 0.04],
    ['Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', 0.03],
  ],
  mobile: [
    [`Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) ${SAFARI} Mobile/15E148 Safari/604.1`, 0.3],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1', 0.12],
    [`Mozilla/5.0 (Linux; Android 10; K) ${CHROME} Mobile Safari/537.36`, 0.4],
    ['Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36', 0.18],
  ],
  tablet: [
    [`Mozilla/5.0 (iPad; CPU OS 17_4_1 like Mac OS X) ${SAFARI} Mobile/15E148 Safari/604.1`, 0.75],
    [`Mozilla/5.0 (Linux; Android 13; SM-X200) ${CHROME} Safari/537.36`, 0.25],
  ],
};

export const APP_BUILDS: Weighted<{
  os: 'iOS' | 'Android'; osVersion: string; manufacturer: string; model: string; userAgent: string;
  library: { name: string; version: string };
}> = [
  [{ os: 'iOS', osVersion: '17.4.1', manufacturer: 'Apple', model: 'iPhone15,2', userAgent: 'EnsembleShop/341 CFNetwork/1494.0.7 Darwin/23.4.0', library: { name: 'analytics-ios', version: '4.1.8' } }, 0.55],
  [{ os: 'Android', osVersion: '14', manufacturer: 'samsung', model: 'SM-S911B', userAgent: 'Dalvik/2.1.0 (Linux; U; Android 14; SM-S911B Build/UP1A.231005.007)', library: { name: 'analytics-android', version: '4.11.3' } }, 0.3],
  [{ os: 'Android', osVersion: '13', manufacturer: 'Google', model: 'Pixel 7', userAgent: 'Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230805.001)', library: { name: 'analytics-android', version: '4.11.3' } }, 0.15],
];

/** Relative traffic by local hour: quiet nights, lunch and evening peaks. */
export const LOCAL_HOUR_WEIGHTS: readonly number[] = [2, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 4, 4, 4, 5, 5, 4, 4, 4, 4, 5, 6, 7, 7, 5, 3];

export interface CountryPool {
  code: string;
  weight: number;
  locales: readonly string[];
  timezone: string;
  /** Hours ahead of UTC, ignoring DST: only used to shape the daily curve. */
  utcOffset: number;
  /** [first address, prefix length]; checked against a geo-IP database to map to the country. */
  ipRanges: readonly (readonly [string, number])[];
  firstNames: readonly string[];
  lastNames: readonly string[];
  cities: Weighted<string>;
}

export const COUNTRIES: readonly CountryPool[] = [
  {
    code: 'FR', weight: 0.78, locales: ['fr-FR'], timezone: 'Europe/Paris', utcOffset: 1,
    ipRanges: [['90.0.0.0', 10], ['2.8.0.0', 13], ['86.192.0.0', 11], ['78.192.0.0', 11], ['82.64.0.0', 14], ['176.128.0.0', 10], ['92.128.0.0', 10]],
    firstNames: ['Camille', 'Léa', 'Manon', 'Chloé', 'Inès', 'Sarah', 'Julie', 'Emma', 'Louise', 'Jade', 'Lucas', 'Hugo', 'Louis', 'Nathan', 'Thomas', 'Mathis', 'Antoine', 'Julien', 'Nicolas', 'Maxime', 'Clément', 'Élodie', 'Amélie', 'Pierre', 'Sophie'],
    lastNames: ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent', 'Lefèvre', 'Michel', 'Garcia', 'David', 'Bertrand', 'Roux', 'Vincent', 'Fournier', 'Morel', 'Girard', 'André', 'Mercier', 'Blanc', 'Guérin', 'Faure', 'Rousseau'],
    cities: [['Paris', 10], ['Lyon', 4], ['Marseille', 4], ['Toulouse', 3], ['Bordeaux', 3], ['Lille', 3], ['Nantes', 3], ['Strasbourg', 2], ['Montpellier', 2], ['Rennes', 2], ['Nice', 2], ['Grenoble', 1], ['Dijon', 1], ['Angers', 1], ['Reims', 1]],
  },
  {
    code: 'BE', weight: 0.06, locales: ['fr-BE', 'nl-BE'], timezone: 'Europe/Brussels', utcOffset: 1,
    ipRanges: [['81.240.0.0', 13], ['178.116.0.0', 14]],
    firstNames: ['Louis', 'Lucas', 'Emma', 'Olivia', 'Noah', 'Arthur', 'Elise', 'Lotte', 'Wout', 'Marie'],
    lastNames: ['Peeters', 'Janssens', 'Maes', 'Jacobs', 'Mertens', 'Willems', 'Claes', 'Dubois', 'Lambert', 'Dupont'],
    cities: [['Bruxelles', 4], ['Antwerpen', 3], ['Gent', 2], ['Liège', 2], ['Namur', 1], ['Charleroi', 1], ['Brugge', 1]],
  },
  {
    code: 'DE', weight: 0.05, locales: ['de-DE'], timezone: 'Europe/Berlin', utcOffset: 1,
    ipRanges: [['79.192.0.0', 10], ['91.0.0.0', 10], ['84.128.0.0', 10], ['93.192.0.0', 10]],
    firstNames: ['Lukas', 'Leon', 'Finn', 'Jonas', 'Paul', 'Anna', 'Lena', 'Laura', 'Julia', 'Sophie', 'Maximilian', 'Felix', 'Hannah', 'Marie'],
    lastNames: ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Hoffmann', 'Schulz'],
    cities: [['Berlin', 4], ['Hamburg', 2], ['München', 2], ['Köln', 2], ['Frankfurt am Main', 1], ['Stuttgart', 1], ['Düsseldorf', 1]],
  },
  {
    code: 'ES', weight: 0.04, locales: ['es-ES'], timezone: 'Europe/Madrid', utcOffset: 1,
    ipRanges: [['83.32.0.0', 11], ['88.0.0.0', 11], ['81.32.0.0', 12]],
    firstNames: ['Lucía', 'María', 'Paula', 'Martina', 'Hugo', 'Pablo', 'Alejandro', 'Daniel', 'Javier', 'Carmen', 'Sergio', 'Laura'],
    lastNames: ['García', 'Fernández', 'González', 'Rodríguez', 'López', 'Martínez', 'Sánchez', 'Pérez', 'Gómez', 'Ruiz'],
    cities: [['Madrid', 4], ['Barcelona', 4], ['Valencia', 2], ['Sevilla', 2], ['Bilbao', 1], ['Málaga', 1], ['Zaragoza', 1]],
  },
  {
    code: 'IT', weight: 0.04, locales: ['it-IT'], timezone: 'Europe/Rome', utcOffset: 1,
    ipRanges: [['79.0.0.0', 10], ['87.0.0.0', 12], ['93.32.0.0', 11]],
    firstNames: ['Giulia', 'Francesca', 'Sofia', 'Aurora', 'Alessandro', 'Lorenzo', 'Matteo', 'Marco', 'Luca', 'Chiara', 'Andrea', 'Federica'],
    lastNames: ['Rossi', 'Russo', 'Ferrari', 'Esposito', 'Bianchi', 'Romano', 'Colombo', 'Ricci', 'Marino', 'Greco'],
    cities: [['Roma', 4], ['Milano', 4], ['Napoli', 2], ['Torino', 2], ['Bologna', 1], ['Firenze', 1], ['Genova', 1]],
  },
  {
    code: 'GB', weight: 0.03, locales: ['en-GB'], timezone: 'Europe/London', utcOffset: 0,
    ipRanges: [['86.128.0.0', 10], ['81.128.0.0', 12], ['31.48.0.0', 13]],
    firstNames: ['Oliver', 'George', 'Harry', 'Jack', 'Amelia', 'Olivia', 'Isla', 'Emily', 'Sophie', 'James', 'Charlotte', 'William'],
    lastNames: ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Robinson', 'Wright'],
    cities: [['London', 5], ['Manchester', 2], ['Birmingham', 2], ['Leeds', 1], ['Bristol', 1], ['Edinburgh', 1], ['Liverpool', 1]],
  },
];

/** Email provider webhook senders (OVH, France). */
export const ESP_RANGES: readonly (readonly [string, number])[] = [['51.210.0.0', 16]];

// Tables for the pools picked from per person or per event.
export const COUNTRY_TABLE = new Table(COUNTRIES.map((c) => [c, c.weight] as const));
export const CHANNEL_TABLE = new Table(CHANNELS);
export const USER_AGENT_TABLES = {
  desktop: new Table(USER_AGENTS.desktop),
  mobile: new Table(USER_AGENTS.mobile),
  tablet: new Table(USER_AGENTS.tablet),
} as const;
/** Zipf-like popularity, shuffled across categories by `rank % 17`: a few bestsellers, a long tail. */
export const PRODUCT_TABLE = new Table(CATALOGUE.map((p, rank) => [p, 1 / ((rank % 17) + 2)] as const));
export const MAX_HOUR_WEIGHT = Math.max(...LOCAL_HOUR_WEIGHTS);
