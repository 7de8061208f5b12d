// "Подставить поле" buttons insert {{Column}} at the cursor of the template box.
const box = document.getElementById('template');
for (const chip of document.querySelectorAll('button[data-field]')) {
  chip.addEventListener('click', () => {
    const field = `{{${chip.dataset.field}}}`;
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? box.value.length;
    box.value = box.value.slice(0, start) + field + box.value.slice(end);
    box.focus();
    box.selectionStart = box.selectionEnd = start + field.length;
  });
}
// Changing the list reloads the form with that list's columns.
const select = document.getElementById('list-select');
select?.addEventListener('change', () => {
  const url = new URL(location.href);
  url.searchParams.set('list', select.value);
  location.href = url.toString();
});
