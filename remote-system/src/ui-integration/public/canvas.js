/*
 * Browser side of the ERP pricing canvas page. No data of its own: it reads the data block the server wrote
 * (#canvas-data) and, when the Canvas JavaScript SDK loaded from the org's instance is there, lets the frame grow
 * with its content and publishes the `erp.priceChosen` event after a successful write-back, so the Visualforce host
 * on the Opportunity page can react. Without the SDK (a blocked script, the page opened outside Salesforce) the
 * page still works; only the frame size and the event are lost.
 */
(function () {
  'use strict';
  var node = document.getElementById('canvas-data');
  if (!node) return;
  var data = JSON.parse(node.textContent || '{}');
  var root = document.documentElement;
  var sdk = window.Sfdc;
  if (!sdk || typeof sdk.canvas !== 'function' || !sdk.canvas.client) {
    root.setAttribute('data-canvas-sdk', 'absent');
    return;
  }
  sdk.canvas(function () {
    sdk.canvas.client.autogrow(data.client);
    if (data.event) {
      sdk.canvas.client.publish(data.client, {
        name: data.event.name,
        payload: data.event.payload
      });
    }
    root.setAttribute('data-canvas-sdk', data.event ? 'published' : 'ready');
  });
})();
