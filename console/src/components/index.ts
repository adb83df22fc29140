export { Layout, type NavItem } from './Layout';
export { Page, Panel } from './Page';
export { Table, type Column, type PageOf } from './Table';
export { TextField, NumberField, SelectField, TextAreaField, CheckboxField, type Option } from './Field';
export { LineChart, BarChart, type Series } from './Chart';
export { ErrorMessage } from './ErrorMessage';
export { LanguageSwitch } from './LanguageSwitch';
export { useApi } from './useApi';
export { formatDate, formatNumber, formatPercent } from './format';
