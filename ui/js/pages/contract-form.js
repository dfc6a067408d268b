// The contract fields, shared by the contracts page, "add a contract" on a client and the
// conversion of a lead.
import { call } from '../api.js';
import { t, moneyInput } from '../i18n.js';
import { documentField } from '../documents.js';

/** Form fields of a contract; `withDocument` adds the file picker (new contracts);
 *  `serviceName` is the name of the service already chosen. */
export function contractFields(withDocument, serviceName = '') {
  return [
    { name: 'name', label: t('contract.name'), placeholder: t('contract.name_placeholder') },
    { name: 'service_id', label: t('contract.service'), type: 'picker', text: serviceName, search: (text) => call('service_options', { search: text }) },
    { name: 'amount', label: t('contract.amount_rub'), type: 'money' },
    { name: 'signed_on', label: t('contract.signed_on'), type: 'date' },
    { name: 'valid_from', label: t('contract.valid_from'), type: 'date' },
    { name: 'valid_to', label: t('contract.valid_to'), type: 'date' },
    withDocument ? documentField(t('contract.document')) : null,
  ].filter(Boolean);
}

/** Splits form values into the core's ContractInput and the document token. */
export function contractInput(values) {
  const { document, ...input } = values;
  return { input, document: document ?? null };
}

export function contractValues(contract) {
  return contract ? { ...contract, amount: moneyInput(contract.amount) } : {};
}
